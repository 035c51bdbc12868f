#!/usr/bin/env python3
"""Checks a Maven Central bundle (central-bundle.zip) of this project: usage check_bundle.py BUNDLE VERSION.

Exactly the published artifacts (tfo-parent's POM; transport-tfo, transport-tfo-micrometer and transport-tfo-grpc with jar, POM,
-sources.jar, -javadoc.jar), each file with a GnuPG signature that verifies (gpg, the key of $GNUPGHOME) and
md5/sha1 (sha256/sha512 when present) checksums that match; every POM with the metadata Central requires
(name, description, url, license, developer, scm), the children's inherited from tfo-parent in the same bundle;
the jars with META-INF/LICENSE, transport-tfo's with its module descriptor, the javadoc jars with an index.html.
Prints one line per artifact and exits 1 on the first list of problems.
"""
import hashlib
import io
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile

GROUP = "dev/tfo"
PARENT = "tfo-parent"
LIBRARIES = ["transport-tfo", "transport-tfo-micrometer", "transport-tfo-grpc"]
NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def expected_files(version):
    files = [f"{GROUP}/{PARENT}/{version}/{PARENT}-{version}.pom"]
    for a in LIBRARIES:
        base = f"{GROUP}/{a}/{version}/{a}-{version}"
        files += [base + ".pom", base + ".jar", base + "-sources.jar", base + "-javadoc.jar"]
    return files


def metadata(pom):
    """The Central-required elements a POM states itself."""
    root = ET.fromstring(pom)
    found = set()
    for tag in ["name", "description", "url"]:
        el = root.find(f"m:{tag}", NS)
        if el is not None and el.text and el.text.strip():
            found.add(tag)
    if root.find("m:licenses/m:license/m:name", NS) is not None:
        found.add("license")
    if root.find("m:developers/m:developer", NS) is not None:
        found.add("developer")
    if root.find("m:scm/m:url", NS) is not None and root.find("m:scm/m:connection", NS) is not None:
        found.add("scm")
    return found


def main(bundle, version):
    problems = []
    with zipfile.ZipFile(bundle) as z:
        names = set(n for n in z.namelist() if not n.endswith("/"))
        content = {n: z.read(n) for n in names}
    wanted = expected_files(version)
    sidecars = (".asc", ".md5", ".sha1", ".sha256", ".sha512")
    primaries = set(n for n in names if not n.endswith(sidecars))
    for extra in sorted(primaries - set(wanted)):
        problems.append(f"not to be published: {extra}")
    for missing in sorted(set(wanted) - primaries):
        problems.append(f"missing: {missing}")

    with tempfile.TemporaryDirectory() as tmp:
        for name in wanted:
            if name not in content:
                continue
            data = content[name]
            for ext, algo, required in [(".md5", "md5", True), (".sha1", "sha1", True),
                                        (".sha256", "sha256", False), (".sha512", "sha512", False)]:
                sidecar = content.get(name + ext)
                if sidecar is None:
                    if required:
                        problems.append(f"{name}: no {ext}")
                    continue
                if sidecar.decode().split()[0] != hashlib.new(algo, data).hexdigest():
                    problems.append(f"{name}{ext}: does not match the file")
            signature = content.get(name + ".asc")
            if signature is None:
                problems.append(f"{name}: no .asc signature")
            else:
                f, s = f"{tmp}/file", f"{tmp}/file.asc"
                open(f, "wb").write(data)
                open(s, "wb").write(signature)
                r = subprocess.run(["gpg", "--batch", "--verify", s, f], capture_output=True, text=True)
                if r.returncode != 0:
                    problems.append(f"{name}.asc: does not verify: {r.stderr.strip()}")
            print(f"check-bundle: checked {name} ({len(data)} bytes)")

    parent_pom = content.get(f"{GROUP}/{PARENT}/{version}/{PARENT}-{version}.pom")
    required = {"name", "description", "url", "license", "developer", "scm"}
    inherited = metadata(parent_pom) if parent_pom else set()
    if parent_pom and required - inherited:
        problems.append(f"{PARENT} POM lacks {sorted(required - inherited)}")
    for a in LIBRARIES:
        base = f"{GROUP}/{a}/{version}/{a}-{version}"
        pom = content.get(base + ".pom")
        if pom is None:
            continue
        own = metadata(pom)
        if not {"name", "description"} <= own:
            problems.append(f"{a} POM lacks its own name or description: has {sorted(own)}")
        if required - (own | inherited):
            problems.append(f"{a} POM lacks {sorted(required - (own | inherited))}, even from {PARENT}")
        if b"SNAPSHOT" in pom:
            problems.append(f"{a} POM names a SNAPSHOT")
        jar = content.get(base + ".jar")
        if jar is not None:
            entries = zipfile.ZipFile(io.BytesIO(jar)).namelist()
            if "META-INF/LICENSE" not in entries:
                problems.append(f"{a}.jar: no META-INF/LICENSE")
            if a == "transport-tfo" and "module-info.class" not in entries:
                problems.append(f"{a}.jar: no module-info.class")
        javadoc = content.get(base + "-javadoc.jar")
        if javadoc is not None and "index.html" not in zipfile.ZipFile(io.BytesIO(javadoc)).namelist():
            problems.append(f"{a}-javadoc.jar: no index.html")
        sources = content.get(base + "-sources.jar")
        if sources is not None and not any(n.endswith(".java") for n in zipfile.ZipFile(io.BytesIO(sources)).namelist()):
            problems.append(f"{a}-sources.jar: no .java file")

    if problems:
        for p in problems:
            print(f"check-bundle: PROBLEM {p}", file=sys.stderr)
        return 1
    print(f"check-bundle: OK: {len(wanted)} artifacts of {version}, signed and checksummed, metadata complete")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: check_bundle.py BUNDLE VERSION", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
