/**
 * Go `http.DetectContentType`: the Content-Type Go's net/http gives a response whose handler
 * set none, from its first 512 bytes (the WHATWG MIME sniffing table as Go implements it).
 * Go rpcx's gateway never sets a Content-Type, so its clients see these values.
 */

const SNIFF_LEN = 512;

const isWS = (b: number) => b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b === 0x20;
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

type Sig = (data: Uint8Array, firstNonWS: number) => string | undefined;

/** Case-insensitive HTML tag at the first non-space byte, followed by a space or `>`. */
function html(tag: string): Sig {
  const pat = bytes(tag);
  return (data, at) => {
    if (data.length - at < pat.length + 1) return undefined;
    for (let i = 0; i < pat.length; i++) {
      let b = data[at + i];
      if (pat[i] >= 0x41 && pat[i] <= 0x5a) b &= 0xdf;
      if (b !== pat[i]) return undefined;
    }
    const next = data[at + pat.length];
    return next === 0x20 || next === 0x3e ? 'text/html; charset=utf-8' : undefined;
  };
}

function exact(sig: string, ct: string): Sig {
  const pat = bytes(sig);
  return (data) => {
    if (data.length < pat.length) return undefined;
    for (let i = 0; i < pat.length; i++) if (data[i] !== pat[i]) return undefined;
    return ct;
  };
}

function masked(mask: string, pattern: string, ct: string, skipWS = false): Sig {
  const m = bytes(mask);
  const p = bytes(pattern);
  return (data, at) => {
    const start = skipWS ? at : 0;
    if (data.length - start < p.length) return undefined;
    for (let i = 0; i < p.length; i++) if ((data[start + i] & m[i]) !== p[i]) return undefined;
    return ct;
  };
}

const mp4: Sig = (data) => {
  if (data.length < 12) return undefined;
  const boxSize = ((data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3]) >>> 0;
  if (data.length < boxSize || boxSize % 4 !== 0) return undefined;
  if (data[4] !== 0x66 || data[5] !== 0x74 || data[6] !== 0x79 || data[7] !== 0x70) return undefined; // ftyp
  for (let st = 8; st < boxSize; st += 4) {
    if (st === 12) continue; // the minor version
    if (data[st] === 0x6d && data[st + 1] === 0x70 && data[st + 2] === 0x34) return 'video/mp4';
  }
  return undefined;
};

const text: Sig = (data, at) => {
  for (let i = at; i < data.length; i++) {
    const b = data[i];
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) return undefined;
  }
  return 'text/plain; charset=utf-8';
};

const FF4 = '\xFF\xFF\xFF\xFF';
const signatures: Sig[] = [
  ...['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--'].map(html),
  masked('\xFF\xFF\xFF\xFF\xFF', '<?xml', 'text/xml; charset=utf-8', true),
  exact('%PDF-', 'application/pdf'),
  exact('%!PS-Adobe-', 'application/postscript'),
  masked('\xFF\xFF\x00\x00', '\xFE\xFF\x00\x00', 'text/plain; charset=utf-16be'),
  masked('\xFF\xFF\x00\x00', '\xFF\xFE\x00\x00', 'text/plain; charset=utf-16le'),
  masked('\xFF\xFF\xFF\x00', '\xEF\xBB\xBF\x00', 'text/plain; charset=utf-8'),
  exact('\x00\x00\x01\x00', 'image/x-icon'),
  exact('\x00\x00\x02\x00', 'image/x-icon'),
  exact('BM', 'image/bmp'),
  exact('GIF87a', 'image/gif'),
  exact('GIF89a', 'image/gif'),
  masked(FF4 + '\x00\x00\x00\x00' + FF4 + '\xFF\xFF', 'RIFF\x00\x00\x00\x00WEBPVP', 'image/webp'),
  exact('\x89PNG\x0D\x0A\x1A\x0A', 'image/png'),
  exact('\xFF\xD8\xFF', 'image/jpeg'),
  masked(FF4 + '\x00\x00\x00\x00' + FF4, 'FORM\x00\x00\x00\x00AIFF', 'audio/aiff'),
  masked('\xFF\xFF\xFF', 'ID3', 'audio/mpeg'),
  masked('\xFF\xFF\xFF\xFF\xFF', 'OggS\x00', 'application/ogg'),
  masked(FF4 + FF4, 'MThd\x00\x00\x00\x06', 'audio/midi'),
  masked(FF4 + '\x00\x00\x00\x00' + FF4, 'RIFF\x00\x00\x00\x00AVI ', 'video/avi'),
  masked(FF4 + '\x00\x00\x00\x00' + FF4, 'RIFF\x00\x00\x00\x00WAVE', 'audio/wave'),
  mp4,
  exact('\x1A\x45\xDF\xA3', 'video/webm'),
  masked('\x00'.repeat(34) + '\xFF\xFF', '\x00'.repeat(34) + 'LP', 'application/vnd.ms-fontobject'),
  exact('\x00\x01\x00\x00', 'font/ttf'),
  exact('OTTO', 'font/otf'),
  exact('ttcf', 'font/collection'),
  exact('wOFF', 'font/woff'),
  exact('wOF2', 'font/woff2'),
  exact('\x1F\x8B\x08', 'application/x-gzip'),
  exact('PK\x03\x04', 'application/zip'),
  exact('Rar!\x1A\x07\x00', 'application/x-rar-compressed'),
  exact('Rar!\x1A\x07\x01\x00', 'application/x-rar-compressed'),
  exact('\x00\x61\x73\x6D', 'application/wasm'),
  text,
];

/** The Content-Type Go would send for a response body starting with `body`. */
export function detectContentType(body: Uint8Array): string {
  const data = body.length > SNIFF_LEN ? body.subarray(0, SNIFF_LEN) : body;
  let at = 0;
  while (at < data.length && isWS(data[at])) at++;
  for (const sig of signatures) {
    const ct = sig(data, at);
    if (ct !== undefined) return ct;
  }
  return 'application/octet-stream';
}
