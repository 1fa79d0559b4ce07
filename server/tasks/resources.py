"""The task resource: the one description the API, sync and the planner share."""

from __future__ import annotations

from server.api.resource import ResourceSpec
from server.models import Task
from server.tasks.policy import TaskPolicy
from server.tasks.schemas import TaskCreate, TaskListQuery, TaskRead, TaskUpdate
from shared.sync.merge import REP_EDITABLE_FIELDS

task_resource: ResourceSpec[Task] = ResourceSpec(
    model=Task,
    name="task",
    path="/tasks",
    read_schema=TaskRead,
    create_schema=TaskCreate,
    update_schema=TaskUpdate,
    policy=TaskPolicy(
        Task,
        "assignee_id",
        customer_required=False,
        rep_editable=REP_EDITABLE_FIELDS["task"],
        not_null={"kind", "title", "priority", "status"},
    ),
    list_query=TaskListQuery,
    equality_filters={
        "customer_id": Task.customer_id,
        "assignee_id": Task.assignee_id,
        "status": Task.status,
        "kind": Task.kind,
    },
)
