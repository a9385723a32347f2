/**
 * Text a server sent, made fit for an error line: one line of plain characters, so that errors stay
 * one line and no escape sequence of a server's reaches the terminal or a CI log.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
}

/** An HTML page's title in one line (a proxy's error page, a sign-in page); undefined when it has none. */
export function pageTitle(page: string): string | undefined {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(page)?.[1];
  return title === undefined ? undefined : oneLine(title);
}
