"""Extract the example requests and responses of seed 000 (the CPaaS TaskRouter document)
into tests/api_cpaas/data/seed000_examples.json, which the replay test reads.

    python tests/api_cpaas/extract_seed000.py /path/to/000_*.txt

The document is prose copied from a web page: typographic quotes, requests split over
lines, two responses whose `uri` lost its opening quote. Each repair made here is listed in
the output's `repairs`, so nothing is changed silently. The JSON is committed because CI
has no copy of the seed; rerun this after the seed changes and review the diff.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "data" / "seed000_examples.json"

RESOURCES = {
    "workspace": "workspaces",
    "taskqueue": "taskqueues",
    "worker": "workers",
    "activit": "activities",
    "workflow": "workflows",
    "task": "tasks",
}
HEADING = re.compile(
    r"^(?:6\.2 )?(Create|Get list of|Get Single|Update|Delete) (Workspaces?|TaskQueues?|"
    r"Workers?|Activity|Activities|Workflows?|Tasks?)(?:$| This endpoint)"
)
OPERATION = {
    "Create": "create",
    "Get list of": "search",
    "Get Single": "fetch",
    "Update": "update",
    "Delete": "delete",
}
# The TaskQueue create heading lost its first letters in the copy.
MANGLED_HEADINGS = {"askQueue": "Create TaskQueue"}
QUOTES = str.maketrans({"“": '"', "”": '"', "’": "'", "‘": "'"})
BROKEN_URI = re.compile(r'"uri":(/taskrouter/[^\s"]+)\s*"')


def resource_of(word: str) -> str:
    word = word.lower()
    return next(v for k, v in RESOURCES.items() if word.startswith(k))


def normalise(text: str, repairs: list[str], where: str) -> str:
    fixed = text.translate(QUOTES)
    if fixed != text:
        repairs.append(f"{where}: typographic quotes made plain")
    uri_fixed = BROKEN_URI.sub(r'"uri":"\1"', fixed)
    if uri_fixed != fixed:
        repairs.append(f"{where}: unquoted uri value quoted")
    return uri_fixed


def parse_json(text: str, repairs: list[str], where: str) -> Any:
    return json.loads(normalise(text, repairs, where))


def extract(lines: list[str]) -> dict[str, Any]:
    repairs: list[str] = []
    examples: list[dict[str, Any]] = []
    resource = operation = None
    pending_body: Any = None
    curl: list[str] = []
    expecting_response = False
    for number, raw in enumerate(lines, 1):
        line = MANGLED_HEADINGS.get(raw.strip(), raw.strip())
        if line != raw.strip():
            repairs.append(f"line {number}: heading {raw.strip()!r} read as {line!r}")
        heading = HEADING.match(line)
        if heading:
            resource = resource_of(heading.group(2))
            operation = OPERATION[heading.group(1)]
            pending_body, curl, expecting_response = None, [], False
            continue
        if resource is None:
            continue
        where = f"line {number} ({operation} {resource})"
        if line.startswith("{") and examples_body_expected(lines, number):
            pending_body = parse_json(line, repairs, where)
            continue
        if line.startswith("curl "):
            curl = [line]
            continue
        if curl and not expecting_response and not line.startswith(("If ", "Below")):
            curl.append(line)
            continue
        if line.startswith(("If ", "Below")) and "response" in line:
            expecting_response = True
            continue
        if expecting_response and line.startswith("{"):
            response = parse_json(line, repairs, where)
            failure = "errorCode" in response
            request = None if failure else request_of(" ".join(curl), pending_body, repairs, where)
            examples.append(
                {
                    "id": f"{resource}.{operation}{'.failure' if failure else ''}",
                    "resource": resource,
                    "operation": operation,
                    "line": number,
                    "request": request,
                    "status": 409 if failure else 200,
                    "response": response,
                }
            )
            expecting_response = False
    return {"source": "seed 000", "repairs": repairs, "examples": examples}


def examples_body_expected(lines: list[str], number: int) -> bool:
    """A JSON line right after a line reading `Example` is the example's request body."""
    return number >= 2 and lines[number - 2].strip() == "Example"


def request_of(command: str, body: Any, repairs: list[str], where: str) -> dict[str, Any]:
    command = normalise(command, repairs, where)
    method = re.search(r"-X\s+(\w+)", command)
    path = re.search(r"(/taskrouter/[^\s\\']+)", command)
    assert method and path, f"{where}: no method or URL in {command!r}"
    if body is None:
        data = re.search(r"-d\s+'(.*)'", command)
        if data:
            body = json.loads(data.group(1))
    return {"method": method.group(1), "path": path.group(1), "body": body}


def main() -> None:
    source = Path(sys.argv[1])
    result = extract(source.read_text().splitlines())
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(result['examples'])} examples, {len(result['repairs'])} repairs -> {OUT}")


if __name__ == "__main__":
    main()
