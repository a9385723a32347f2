import { engineNames } from './container-engine';
import { UnknownEngineError } from './errors';

export const engineChoices = [...engineNames, 'auto'] as const;

/** A misspelt engine is bad input: said before any work, not after a failed detection. */
export function validateEngineChoice(choice: string): void {
  if (!(engineChoices as readonly string[]).includes(choice)) throw new UnknownEngineError(choice, engineChoices);
}
