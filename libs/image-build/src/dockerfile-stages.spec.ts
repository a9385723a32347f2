import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRunsCommands, parseDockerfileStages } from './dockerfile-stages';

const workspaceRoot = join(__dirname, '../../..');

describe('parseDockerfileStages', () => {
  it('reads names, bases, RUN steps and the stages copied or mounted from, across continuations and comments', () => {
    const stages = parseDockerfileStages(
      [
        'FROM --platform=$BUILDPLATFORM node:20 AS Deps',
        '# RUN in a comment does not count',
        'RUN --mount=type=cache,target=/root/.npm \\',
        '    npm ci',
        'FROM deps AS build',
        'run --mount=type=bind,from=assets,target=/a true',
        'FROM nginx:1.27-alpine',
        'COPY --from=build /app/dist /usr/share/nginx/html',
        'COPY --chown=1:1 --from=0 /x /y',
      ].join('\n'),
    );
    expect(stages).toEqual([
      { base: 'node:20', name: 'deps', runsCommands: true, usesStages: [] },
      { base: 'deps', name: 'build', runsCommands: true, usesStages: ['assets'] },
      { base: 'nginx:1.27-alpine', name: undefined, runsCommands: false, usesStages: ['build', '0'] },
    ]);
  });
});

describe('buildRunsCommands', () => {
  const multiStage = 'FROM node:20 AS development\nRUN npm ci\n\nFROM node:20 AS production\nCOPY . /app/\n';

  it('looks only at the target stage and the stages it builds on', () => {
    expect(buildRunsCommands(multiStage, 'production')).toBe(false);
    expect(buildRunsCommands(multiStage, 'development')).toBe(true);
    expect(buildRunsCommands(multiStage)).toBe(false);
    expect(buildRunsCommands(`${multiStage}COPY --from=development /app/node_modules /app/node_modules\n`, 'production')).toBe(true);
    expect(buildRunsCommands('FROM node:20 AS deps\nRUN npm ci\nFROM deps AS production\nCOPY . /app/\n', 'production')).toBe(true);
  });

  it('counts an unknown target as running commands, so the engine reports it', () => {
    expect(buildRunsCommands(multiStage, 'prod')).toBe(true);
  });

  it.each(['api', 'admin', 'media-api', 'nginx'])("finds no RUN step in %s's production stage: a bundle copied onto a base", (service) => {
    expect(buildRunsCommands(readFileSync(join(workspaceRoot, 'apps', service, 'Dockerfile'), 'utf8'), 'production')).toBe(false);
  });
});
