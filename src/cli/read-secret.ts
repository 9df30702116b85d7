// Reads a secret (a password) from stdin: one line, never from argv (which `ps` shows to everyone).
// On a terminal it prompts on stderr and keeps the typed characters off the screen.
const MAX_SECRET_BYTES = 1024;

export async function readSecret(
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown },
  prompt: string,
  stderr: (text: string) => void,
): Promise<string> {
  const tty = input.isTTY === true && typeof input.setRawMode === 'function';
  if (tty) {
    stderr(prompt);
    input.setRawMode!(true);
  }
  let text = '';
  try {
    text = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      const done = (value: string) => {
        input.off('data', onData);
        input.off('end', onEnd);
        input.off('error', reject);
        input.pause();
        resolve(value);
      };
      const onData = (chunk: Buffer | string) => {
        buffered += chunk.toString();
        if (tty && buffered.includes('\u0003')) return reject(new Error('cancelled'));
        const end = buffered.search(/[\r\n]/);
        if (end >= 0) return done(buffered.slice(0, end));
        if (Buffer.byteLength(buffered) > MAX_SECRET_BYTES) reject(new Error(`the password is longer than ${MAX_SECRET_BYTES} bytes`));
      };
      const onEnd = () => done(buffered);
      input.on('data', onData);
      input.once('end', onEnd);
      input.once('error', reject);
      input.resume();
    });
  } finally {
    if (tty) {
      input.setRawMode!(false);
      stderr('\n');
    }
  }
  if (Buffer.byteLength(text) > MAX_SECRET_BYTES) throw new Error(`the password is longer than ${MAX_SECRET_BYTES} bytes`);
  if (text === '') throw new Error('no password given on stdin');
  return text;
}
