/** Download bytes as a file, and read a file the visitor picks. */

export function downloadBytes(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Give the download a moment to start before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function readPickedFile(input: HTMLInputElement): Promise<{ bytes: Uint8Array; fileName: string } | null> {
  const file = input.files?.[0];
  if (!file) return null;
  return { bytes: new Uint8Array(await file.arrayBuffer()), fileName: file.name };
}
