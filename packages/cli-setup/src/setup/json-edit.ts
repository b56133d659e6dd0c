// Minimal edits of a JSON text: one member is inserted or one value replaced, and every other
// byte (the user's spacing, compact arrays, key order) stays as it was. The text must already have
// passed JSON.parse; this scanner only finds where things are.

/** An object member: its key, and where the member and its value are in the text. */
interface Member {
  key: string;
  memberStart: number;
  valueStart: number;
  valueEnd: number;
}

interface ObjectSpan {
  open: number;
  close: number;
  members: Member[];
}

/**
 * Sets `path` (object keys from the root) to `value`, creating the missing objects on the way.
 * `indentUnit` and `eol` are those of the file, for the inserted text.
 *
 * @example
 * setJsonValue('{"a": {"x": 1}}', ['a', 'y'], 2, '  ', '\n');            // '{"a": {"x": 1, "y": 2}}'
 * setJsonValue('{\n  "a": {\n    "x": 1\n  }\n}', ['a', 'y'], 2, '  ', '\n'); // …"x": 1,\n    "y": 2\n  }\n}
 */
export function setJsonValue(text: string, path: readonly string[], value: unknown, indentUnit: string, eol: string): string {
  let object = readObject(text, skipSpace(text, text.charCodeAt(0) === 0xfeff ? 1 : 0));
  for (let depth = 0; depth < path.length; depth++) {
    const key = path[depth]!;
    const member = object.members.findLast((each) => each.key === key);
    const rest = path.slice(depth + 1);
    const nested = rest.reduceRight<unknown>((inner, name) => ({ [name]: inner }), value);
    if (!member) return insertMember(text, object, key, nested, indentUnit, eol);
    if (rest.length === 0 || text[member.valueStart] !== '{') {
      const indent = lineIndent(text, member.memberStart);
      return `${text.slice(0, member.valueStart)}${serialize(nested, indent, indentUnit, eol)}${text.slice(member.valueEnd)}`;
    }
    object = readObject(text, member.valueStart);
  }
  return text;
}

function insertMember(text: string, object: ObjectSpan, key: string, value: unknown, indentUnit: string, eol: string): string {
  const last = object.members.at(-1);
  if (last) {
    const indent = lineIndent(text, last.memberStart);
    const sameLine = !text.slice(object.open, last.memberStart).includes('\n');
    const separator = sameLine ? ', ' : `,${eol}${indent}`;
    // A one-line object gets a one-line member; otherwise the member is laid out like its siblings.
    const member = `${separator}${JSON.stringify(key)}: ${sameLine ? JSON.stringify(value) : serialize(value, indent, indentUnit, eol)}`;
    return `${text.slice(0, last.valueEnd)}${member}${text.slice(last.valueEnd)}`;
  }
  const closeIndent = lineIndent(text, object.open);
  const indent = closeIndent + indentUnit;
  const member = `${eol}${indent}${JSON.stringify(key)}: ${serialize(value, indent, indentUnit, eol)}${eol}${closeIndent}`;
  return `${text.slice(0, object.open + 1)}${member}${text.slice(object.close)}`;
}

/** JSON of `value` laid out for a member whose line starts with `indent`. */
function serialize(value: unknown, indent: string, indentUnit: string, eol: string): string {
  return JSON.stringify(value, null, indentUnit).split('\n').join(`${eol}${indent}`);
}

/** The whitespace that starts the line `offset` is on. */
function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function readObject(text: string, open: number): ObjectSpan {
  if (text[open] !== '{') throw new Error(`expected an object at offset ${open}`);
  const members: Member[] = [];
  let index = skipSpace(text, open + 1);
  if (text[index] === '}') return { open, close: index, members };
  for (;;) {
    const memberStart = index;
    const keyEnd = skipValue(text, index);
    const key = JSON.parse(text.slice(index, keyEnd)) as string;
    index = skipSpace(text, keyEnd);
    index = skipSpace(text, index + 1); // ':'
    const valueStart = index;
    const valueEnd = skipValue(text, valueStart);
    members.push({ key, memberStart, valueStart, valueEnd });
    index = skipSpace(text, valueEnd);
    if (text[index] === '}') return { open, close: index, members };
    index = skipSpace(text, index + 1); // ','
  }
}

/** The offset just after the JSON value that starts at `start`. */
function skipValue(text: string, start: number): number {
  const first = text[start];
  if (first === '"') {
    let index = start + 1;
    while (text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
    return index + 1;
  }
  if (first === '{' || first === '[') {
    const close = first === '{' ? '}' : ']';
    let index = skipSpace(text, start + 1);
    if (text[index] === close) return index + 1;
    for (;;) {
      if (first === '{') {
        index = skipSpace(text, skipValue(text, index));
        index = skipSpace(text, index + 1);
      }
      index = skipSpace(text, skipValue(text, index));
      if (text[index] === close) return index + 1;
      index = skipSpace(text, index + 1);
    }
  }
  let index = start;
  while (index < text.length && !/[\s,\]}]/.test(text[index]!)) index++;
  return index;
}

function skipSpace(text: string, index: number): number {
  while (index < text.length && /\s/.test(text[index]!)) index++;
  return index;
}
