"""The staff console: server-rendered pages under `/console` for agents, supervisors, managers,
compliance officers and administrators, in zh-CN and en (docs/console.md).

Each area is a module with its own router; `ROUTERS` lists them (one line each) and
`recoup.console.install` puts them on the app.
"""

from __future__ import annotations

from fastapi import APIRouter

from recoup.console import (
    admin,
    articles,
    compliance,
    contacts,
    conversations,
    dashboard,
    home,
    models,
    people,
    queues,
    strategy,
    supervisor,
    templates_desk,
    workbench,
)

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    people.router,
    workbench.router,
    queues.router,
    contacts.router,
    conversations.router,
    strategy.router,
    admin.router,
    supervisor.router,
    compliance.router,
    dashboard.router,
    templates_desk.router,
    models.router,
    articles.router,
)
