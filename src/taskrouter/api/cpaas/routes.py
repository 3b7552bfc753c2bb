"""Every route of the CPaaS face, in one table.

Updates and deletes also answer on `/search/{sid}`: the document's own task update example
sends its PUT there.
"""

from __future__ import annotations

from taskrouter.api.cpaas import activities, openapi, queues, tasks, workers, workflows, workspaces
from taskrouter.api.dispatch import Endpoint


def _resource(collection: str, module: object, singular: str) -> list[tuple[str, str, Endpoint]]:
    base = f"/taskrouter/{collection}"
    handlers = {
        name: getattr(module, f"{verb}_{singular}")
        for name, verb in (
            ("create", "create"),
            ("fetch", "fetch"),
            ("update", "update"),
            ("delete", "delete"),
        )
    }
    search = getattr(module, f"search_{collection.replace('taskqueues', 'task_queues')}")
    return [
        ("POST", base, handlers["create"]),
        ("GET", f"{base}/search", search),
        ("GET", f"{base}/search/{{sid}}", handlers["fetch"]),
        ("PUT", f"{base}/{{sid}}", handlers["update"]),
        ("DELETE", f"{base}/{{sid}}", handlers["delete"]),
        ("PUT", f"{base}/search/{{sid}}", handlers["update"]),
        ("DELETE", f"{base}/search/{{sid}}", handlers["delete"]),
    ]


table: list[tuple[str, str, Endpoint]] = [
    ("GET", "/taskrouter/openapi.json", openapi.document),
    *_resource("workspaces", workspaces, "workspace"),
    *_resource("taskqueues", queues, "task_queue"),
    *_resource("workers", workers, "worker"),
    *_resource("activities", activities, "activity"),
    *_resource("workflows", workflows, "workflow"),
    *_resource("tasks", tasks, "task"),
]
