/**
 * Where a JSON text first goes wrong, as line and column. V8's JSON.parse messages do not always
 * carry a position (`Unexpected token '}', "..." is not valid JSON`), so when parsing fails this
 * scanner walks the text once to point at the first bad character.
 */
export interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  message: string;
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly what: string,
  ) {
    super(what);
  }
}

function found(text: string, at: number): string {
  return at >= text.length ? 'the end of the file' : JSON.stringify(text[at]);
}

/** Finds the first syntax error of `text`, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let at = 0;
  const ws = () => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) at++;
  };
  const expectLiteral = (word: string) => {
    for (let i = 0; i < word.length; i++) {
      if (text[at + i] !== word[i]) throw new Stop(at + i, `expected "${word}", found ${found(text, at + i)}`);
    }
    at += word.length;
  };
  const string = () => {
    at++; // opening quote
    for (;;) {
      if (at >= text.length) throw new Stop(at, 'unterminated string: expected a closing \'"\'');
      const c = text.charCodeAt(at);
      if (c === 0x22) {
        at++;
        return;
      }
      if (c < 0x20) throw new Stop(at, 'a string cannot hold a raw line break or control character: write it as \\n, \\t...');
      if (c === 0x5c) {
        const e = text[at + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) throw new Stop(at, 'expected 4 hex digits after \\u');
          at += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) at += 2;
        else throw new Stop(at, `invalid escape "\\${e ?? ''}" in a string`);
      } else at++;
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(at, at + 400));
    if (!match || match[0] === '-' || match[0] === '') throw new Stop(at, `invalid number starting with ${found(text, at)}`);
    at += match[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[at];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    if (c === 't') return expectLiteral('true');
    if (c === 'f') return expectLiteral('false');
    if (c === 'n') return expectLiteral('null');
    const hint = c === "'" ? " (JSON strings use double quotes)" : '';
    throw new Stop(at, `expected a value, found ${found(text, at)}${hint}`);
  };
  const object = () => {
    at++;
    ws();
    if (text[at] === '}') {
      at++;
      return;
    }
    for (;;) {
      ws();
      if (text[at] !== '"') {
        const hint = text[at] === '}' ? ' (JSON allows no comma after the last property)' : '';
        throw new Stop(at, `expected a property name in double quotes, found ${found(text, at)}${hint}`);
      }
      string();
      ws();
      if (text[at] !== ':') throw new Stop(at, `expected ":" after a property name, found ${found(text, at)}`);
      at++;
      value();
      ws();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === '}') {
        at++;
        return;
      }
      throw new Stop(at, `expected "," or "}" after a property value, found ${found(text, at)}`);
    }
  };
  const array = () => {
    at++;
    ws();
    if (text[at] === ']') {
      at++;
      return;
    }
    for (;;) {
      ws();
      if (text[at] === ']') throw new Stop(at, 'expected a value, found "]" (JSON allows no comma after the last item)');
      value();
      ws();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === ']') {
        at++;
        return;
      }
      throw new Stop(at, `expected "," or "]" after an array item, found ${found(text, at)}`);
    }
  };
  try {
    value();
    ws();
    if (at < text.length) throw new Stop(at, `unexpected ${found(text, at)} after the end of the JSON value`);
    return null;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < error.offset && i < text.length; i++) {
      if (text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return { offset: error.offset, line, column: error.offset - lineStart + 1, message: error.what };
  }
}
