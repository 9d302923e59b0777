/**
 * faas-cli's substitution of environment variables in stack.yml, done on the
 * text before YAML parsing. faas-cli calls drone/envsubst's EvalEnv, which
 * looks names up with os.Getenv (unset and empty are the same ''):
 *   ${NAME}                                   the value, '' when unset
 *   ${NAME:-word}  ${NAME:=word}  ${NAME=word} word when NAME is unset or empty;
 *                                             word may hold ${…}, never '}'
 *   $$                                        a literal $  ($${NAME} stays ${NAME})
 *   \/  \\  (outside ${…})                    / and \
 *   $NAME                                     left as it is
 * Forms faas-cli reads unlike the shell are refused (INVALID_STACK), so the
 * local gateway never runs a stack faas-cli would deploy differently:
 * ${NAME-word} (to faas-cli a variable named "NAME-word"), ${NAME:?word} and
 * ${NAME:+word} (it treats both as :-), and the bash string functions
 * (${#NAME}, ${NAME:1}, ${NAME/a/b}, ${NAME^^}, …).
 */
import { ClipseekError } from '../common/errors.js';

const NAME_CHAR = /[A-Za-z0-9_-]/;
const DEFAULT_OPERATORS = [':-', ':=', '='];

export function substituteEnv(text: string, env: NodeJS.ProcessEnv): string {
  let pos = 0;
  const lookup = (name: string) => env[name] ?? '';

  const refuse = (start: number, why: string): never => {
    const line = text.slice(0, start).split('\n').length;
    throw new ClipseekError('INVALID_STACK', `stack.yml line ${line}: ${why}`, {
      details: { line, expression: text.slice(start, text.indexOf('}', start) + 1 || undefined) },
    });
  };

  /** One ${…}; `pos` is just past its "${" and ends just past its "}". */
  const expression = (): string => {
    const start = pos - 2;
    const nameStart = pos;
    while (pos < text.length && NAME_CHAR.test(text[pos]!)) pos += 1;
    const name = text.slice(nameStart, pos);
    if (name === '') return refuse(start, `a \${…} without a variable name (or a bash string function)`);
    if (name.includes('-')) {
      const [variable] = name.split('-');
      return refuse(start, `faas-cli reads \${${name}…} as one variable name; write \${${variable}:-…}`);
    }
    if (text[pos] === '}') {
      pos += 1;
      return lookup(name);
    }
    const operator = DEFAULT_OPERATORS.find((op) => text.startsWith(op, pos));
    if (operator === undefined) {
      return refuse(start, `\${${name}${text[pos] ?? ''}…} is not \${${name}} or \${${name}:-default}`);
    }
    pos += operator.length;
    let word = '';
    while (pos < text.length && text[pos] !== '}') {
      if (text.startsWith('${', pos)) {
        pos += 2;
        word += expression();
      } else {
        word += text[pos];
        pos += 1;
      }
    }
    if (pos >= text.length) return refuse(start, `\${${name}${operator}… has no closing }`);
    pos += 1;
    const value = lookup(name);
    return value === '' ? word : value;
  };

  let out = '';
  while (pos < text.length) {
    const two = text.slice(pos, pos + 2);
    if (two === '${') {
      pos += 2;
      out += expression();
    } else if (two === '$$' || two === '\\/' || two === '\\\\') {
      out += two[1];
      pos += 2;
    } else {
      out += text[pos];
      pos += 1;
    }
  }
  return out;
}
