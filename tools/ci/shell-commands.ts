/**
 * The simple commands of a workflow's `run:` script, as word lists (quotes kept as written), so the
 * checks can see which programs it calls. Enough shell for the scripts a workflow should hold:
 * quotes, `${…}`, comments, `[[ … ]]` tests, and `;`, `&&`, `||`, `|` and newlines between commands; keywords
 * (`if`, `then`, `fi`, a group's `{ … }`, …) and assignments (`NAME=value`) start no command of their own, and the
 * commands of a `$(…)` are commands too, so a program run for its output is checked as well.
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
    if (char === '$' && script[index + 1] === '(' && script[index + 2] !== '(' && quote !== "'") {
      const end = substitutionEnd(script, index + 2);
      commands.push(...shellCommands(script.slice(index + 2, end)));
      word += script.slice(index, end + 1);
      index = end;
    } else if (quote) {
      word += char;
      if (char === quote && !(quote === '"' && script[index - 1] === '\\')) quote = undefined;
    } else if (char === '$' && script[index + 1] === '{') {
      braces++;
      word += char;
    } else if (braces > 0) {
      word += char;
      if (char === '}') braces--;
      else if (char === '"' || char === "'") quote = char;
    } else if (word === '' && /^\[\[\s/.test(script.slice(index, index + 3))) {
      // A test, [[ … ]]: its =~ pattern's ( ) and | are no operators; it is one command of its own words.
      const end = script.indexOf(']]', index + 2);
      const close = end === -1 ? script.length : end + 2;
      words.push(...script.slice(index, close).split(/\s+/).filter((part) => part !== ''));
      index = close - 1;
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

/** The index of the `)` that closes the `$(` whose inside starts at `start` (quotes and nested parentheses skipped). */
function substitutionEnd(script: string, start: number): number {
  let depth = 1;
  let quote: '"' | "'" | undefined;
  for (let index = start; index < script.length; index++) {
    const char = script[index];
    if (quote) {
      if (char === quote && !(quote === '"' && script[index - 1] === '\\')) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '(') {
      depth++;
    } else if (char === ')' && --depth === 0) {
      return index;
    }
  }
  return script.length;
}

const keywords = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!', '{', '}']);

function dropLeadingKeywords(words: string[]): string[] {
  const first = words.findIndex((word) => !keywords.has(word) && !/^[A-Za-z_]\w*=/.test(word));
  return first === -1 ? [] : words.slice(first);
}
