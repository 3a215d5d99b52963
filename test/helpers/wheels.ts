import { execFileSync } from 'node:child_process';

/**
 * Writes a pure-Python wheel `<name>-<version>-py3-none-any.whl` into
 * `folder`: a package `name` whose `VERSION` is `version`. Made with
 * Python's zipfile, as the wheel format describes it (METADATA, WHEEL,
 * RECORD), so tests need no pip, setuptools or index to have packages pip
 * installs for real.
 */
export function writeWheel(folder: string, name: string, version: string): string {
  const script = `
import base64, hashlib, sys, zipfile
folder, name, version = sys.argv[1:]
info = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": f"VERSION = {version!r}\\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: pythond-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
def record(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"
lines = [f"{path},{record(text.encode())}" for path, text in files.items()] + [f"{info}/RECORD,,"]
files[f"{info}/RECORD"] = "\\n".join(lines) + "\\n"
wheel = f"{folder}/{name}-{version}-py3-none-any.whl"
with zipfile.ZipFile(wheel, "w") as archive:
    for path, text in files.items():
        archive.writestr(path, text)
print(wheel)
`;
  return execFileSync('python3', ['-c', script, folder, name, version], { encoding: 'utf8' }).trim();
}
