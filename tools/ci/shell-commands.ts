/**
 * The simple commands of a workflow's `run:` script, as word lists (quotes kept as written), so the
 * checks can see which programs it calls. Enough shell for the scripts a workflow should hold:
 * quotes, `${…}`, comments, and `;`, `&&`, `||`, `|` and newlines between commands; keywords
 * (`if`, `then`, `fi`, …) start no command of their own.
 */
export function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let quote: '"' | "'" | undefined;
  let braces = 0;

  const endWord = () => {
    if (word !== '') words.push(word);
    word = '';
  };
  const endCommand = () => {
    endWord();
    const command = dropLeadingKeywords(words);
    if (command.length > 0) commands.push(command);
    words = [];
  };

  for (let index = 0; index < script.length; index++) {
    const char = script[index];
    if (quote) {
      word += char;
      if (char === quote && !(quote === '"' && script[index - 1] === '\\')) quote = undefined;
    } else if (char === '$' && script[index + 1] === '{') {
      braces++;
      word += char;
    } else if (braces > 0) {
      word += char;
      if (char === '}') braces--;
      else if (char === '"' || char === "'") quote = char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word += char;
    } else if (char === '#' && word === '') {
      while (index + 1 < script.length && script[index + 1] !== '\n') index++;
    } else if (char === '\n' || char === ';' || char === '|' || (char === '&' && script[index + 1] === '&')) {
      if ((char === '|' || char === '&') && script[index + 1] === char) index++;
      endCommand();
    } else if (char === ' ' || char === '\t') {
      endWord();
    } else {
      word += char;
    }
  }
  endCommand();
  return commands;
}

const keywords = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!']);

function dropLeadingKeywords(words: string[]): string[] {
  const first = words.findIndex((word) => !keywords.has(word));
  return first === -1 ? [] : words.slice(first);
}
