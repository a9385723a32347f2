import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import swagger from './gitea-releases-swagger.json';

/**
 * Checks an answer of the Gitea test server against gitea-releases-swagger.json (copied from
 * /work/shared/contracts so CI has it): the status must be one the operation declares (or one Gitea's
 * source adds, per the file's x-newer-source-notes), and the body must match that response's schema.
 */
export interface ContractViolation {
  method: string;
  path: string;
  status: number;
  problem: string;
}

type Operation = { operationId: string; responses: Record<string, { $ref?: string }> };
interface SwaggerResponse {
  schema?: unknown;
  headers?: Record<string, unknown>;
}

/** Statuses Gitea sends that the trimmed spec leaves out (auth middleware, newer handlers, faults). */
const statusesOutsideTheSpec: Record<string, number[]> = {
  '*': [401, 403, 429, 500, 503],
  repoCreateRelease: [422],
  repoDeleteRelease: [422],
  repoDeleteReleaseByTag: [422],
  repoCreateReleaseAttachment: [413],
  repoEditReleaseAttachment: [422],
};

/** Gitea's answer to a token that matches no user, exactly. */
export const unknownTokenMessage = 'user does not exist [uid: 0, name: ]';

/** The minimal user the contract's README says serves for the missing `#/definitions/User`. */
const userDefinition = {
  type: 'object',
  required: ['id', 'login'],
  properties: {
    id: { type: 'integer' },
    login: { type: 'string' },
    full_name: { type: 'string' },
    email: { type: 'string' },
    avatar_url: { type: 'string' },
  },
};

export class GiteaContract {
  private readonly ajv: Ajv;
  private readonly routes: Array<{ method: string; pattern: RegExp; literalSegments: number; operation: Operation }>;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isInteger(value) });
    this.ajv.addSchema({ definitions: { ...everyPropertyRequired(swagger.definitions), User: userDefinition } }, 'gitea');
    this.routes = Object.entries(swagger.paths as Record<string, Record<string, Operation>>)
      .flatMap(([template, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({
          method: method.toUpperCase(),
          pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
          literalSegments: template.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
          operation,
        })),
      )
      // `/releases/latest` and `/releases/tags/{tag}` must win over `/releases/{id}`.
      .sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Problems with one answer; an empty list means it is what Gitea would send. */
  check(method: string, apiPath: string, status: number, body: Buffer): ContractViolation[] {
    const route = this.routes.find((candidate) => candidate.method === method && candidate.pattern.test(apiPath));
    const violation = (problem: string): ContractViolation[] => [{ method, path: apiPath, status, problem }];
    if (!route) return violation('no operation in the contract matches this request');
    const { operationId, responses } = route.operation;
    const declared = responses[String(status)];
    const allowedExtra = [...statusesOutsideTheSpec['*']!, ...(statusesOutsideTheSpec[operationId] ?? [])];
    if (!declared && !allowedExtra.includes(status)) {
      return violation(`${operationId} does not answer ${status}`);
    }
    const responseName = declared?.$ref?.replace('#/responses/', '') ?? 'error';
    return this.checkBody(operationId, responseName, status, body).map((problem) => violation(problem)[0]!);
  }

  private checkBody(operationId: string, responseName: string, status: number, body: Buffer): string[] {
    const response = (swagger.responses as Record<string, SwaggerResponse>)[responseName];
    if (responseName === 'empty') return body.length === 0 ? [] : [`${operationId} ${status} must have an empty body`];
    if (response?.schema) return this.validate(responseName, response.schema, body);
    // Every API error, 404 and 409 included, is an APIError body (services/context/api.go).
    if (status >= 400) return this.checkApiError(status, body);
    return [];
  }

  /** Errors carry Gitea's APIError body; a 401 for an unknown token carries its exact text. */
  private checkApiError(status: number, body: Buffer): string[] {
    const problems = this.validate('APIError', { $ref: '#/definitions/APIError' }, body);
    if (problems.length > 0) return problems;
    const { message } = JSON.parse(body.toString('utf8')) as { message?: string };
    if (typeof message !== 'string') return ['an error body must carry a message'];
    // Production Gitea blanks a 500's message for all but admins (services/context/api.go Error).
    if (message.length === 0 && status !== 500) return ['an error body must carry a message'];
    if (status === 401 && message.startsWith('user does not exist') && message !== unknownTokenMessage) {
      return [`401 text must be exactly "${unknownTokenMessage}"`];
    }
    return [];
  }

  private validate(name: string, schema: unknown, body: Buffer): string[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return [`${name}: body is not JSON`];
    }
    let validator = this.validators.get(name);
    if (!validator) {
      validator = this.ajv.compile(pointAtDefinitions(schema) as object);
      this.validators.set(name, validator);
    }
    if (validator(parsed)) return [];
    return (validator.errors ?? []).map((error) => `${name}${error.instancePath} ${error.message ?? 'is invalid'}`);
  }
}

/**
 * Gitea's structs (modules/structs Release, Attachment, APIError) serialize every field, none
 * `omitempty`, so an answer lacking one of the properties the spec lists is not Gitea's.
 */
function everyPropertyRequired(definitions: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(definitions).map(([name, definition]) => {
      const properties = (definition as { properties?: Record<string, unknown> }).properties;
      const answered = answerStructs.includes(name) && properties;
      return [name, answered ? { ...(definition as object), required: Object.keys(properties) } : definition];
    }),
  );
}

/** The definitions Gitea answers with; the others describe requests, whose fields are optional. */
const answerStructs = ['Release', 'Attachment', 'APIError'];

/** Swagger's `#/definitions/X` refs, redirected to the definitions registered under id `gitea`. */
function pointAtDefinitions(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/definitions\//g, '"gitea#/definitions/'));
}
