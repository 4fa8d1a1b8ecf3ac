/**
 * jpeg — the snapshot check: the spec accepts JPEG only. A JPEG starts with SOI
 * (FF D8) followed by a marker (FF xx) and ends with EOI (FF D9), trailing zero
 * padding allowed.
 * Must never: accept bytes without both markers.
 */
export function jpegProblem(pic: Uint8Array): string | undefined {
  if (pic.length < 4) {
    return `${pic.length} bytes is too short for a JPEG`;
  }
  if (pic[0] !== 0xff || pic[1] !== 0xd8 || pic[2] !== 0xff) {
    return 'does not start with a JPEG SOI marker (FF D8 FF)';
  }
  let end = pic.length;
  while (end > 2 && pic[end - 1] === 0) {
    end--;
  }
  if (pic[end - 2] !== 0xff || pic[end - 1] !== 0xd9) {
    return 'does not end with a JPEG EOI marker (FF D9)';
  }
  return undefined;
}
