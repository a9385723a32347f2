/**
 * nx release --dry-run says once, before versioning, why a real release would stop (no signing key,
 * say). Its publish walk and every image task then run in processes of their own, which inherit
 * this variable and leave those reasons to the lines already shown rather than repeat them per task.
 */
const stopNoticesShownVariable = 'NX_RELEASE_STOP_NOTICES_SHOWN';

export function sayWhyARealReleaseWouldStop(notices: readonly string[], env: NodeJS.ProcessEnv): void {
  for (const notice of notices) console.log(`dry run: a real release would stop here: ${notice}`);
  if (notices.length > 0) env[stopNoticesShownVariable] = 'true';
}

/** Whether the nx release this task runs under has already said why a real release would stop. */
export function stopNoticesShown(env: NodeJS.ProcessEnv): boolean {
  return env[stopNoticesShownVariable] === 'true';
}
