// A ready-made pair of file handlers over one directory: what most servers want from file
// transfer, and what the `rpcx upload` / `rpcx download` commands talk to in the tests.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FileNotFoundError, InvalidFileNameError } from '@rpcx/core';
import type { FileTransferOptions } from './server.js';
import { FILE_CHUNK_BYTES } from './transfer-streams.js';

/** The handlers and acceptors `serveDirectory` makes; spread them into `enableFileTransfer`'s options. */
export type DirectoryHandlers = Required<Pick<FileTransferOptions, 'uploadHandler' | 'downloadHandler' | 'uploadAcceptor' | 'downloadAcceptor'>>;

/**
 * Serve the files of `root`: an upload is stored as `root/<fileName>` (written to a
 * temporary name and renamed once complete, so a failed upload leaves nothing; an existing
 * file is replaced), a download reads `root/<fileName>`. Names must be plain file names
 * (`InvalidFileNameError` otherwise, in the call); a download of a missing file fails its
 * call with `FileNotFoundError`, before any side connection.
 */
export function serveDirectory(root: string): DirectoryHandlers {
  const pathOf = (fileName: string) => join(root, plainName(fileName));
  return {
    uploadAcceptor: (args) => void plainName(args.fileName),
    downloadAcceptor: async (args) => {
      if (!(await isFile(pathOf(args.fileName)))) throw new FileNotFoundError(args.fileName);
    },
    async uploadHandler(file, args) {
      const target = pathOf(args.fileName);
      const partial = join(root, `.${plainName(args.fileName)}.${randomBytes(6).toString('hex')}.part`);
      try {
        await pipeline(file, createWriteStream(partial, { flags: 'wx' }));
        await rename(partial, target);
      } catch (err) {
        await unlink(partial).catch(() => {});
        throw err;
      }
    },
    async downloadHandler(out, args) {
      try {
        await pipeline(createReadStream(pathOf(args.fileName), { highWaterMark: FILE_CHUNK_BYTES }), out);
      } catch (err) {
        // Removed between the call and the connection.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(args.fileName, { cause: err });
        throw err;
      }
    },
  };
}

/** `name` when it names a file directly inside a directory, else `InvalidFileNameError`. */
function plainName(name: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) throw new InvalidFileNameError(name);
  return name;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
