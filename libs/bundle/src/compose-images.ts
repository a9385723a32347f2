import { parseDocument } from 'yaml';
import { ComposeFileError } from './bundle-errors';

/** A service's `image:` exactly as the compose file writes it, variables and all. */
export interface ComposeImage {
  service: string;
  image: string;
}

export function composeImages(composeFile: string, composeText: string): ComposeImage[] {
  const document = parseDocument(composeText);
  if (document.errors.length > 0) {
    throw new ComposeFileError(`${composeFile}: is not valid YAML (${document.errors[0].message.split('\n')[0]}); fix it`);
  }
  const services = (document.toJS() as { services?: Record<string, { image?: unknown }> } | null)?.services ?? {};
  return Object.entries(services)
    .filter(([, service]) => typeof service?.image === 'string')
    .map(([service, definition]) => ({ service, image: definition.image as string }));
}
