"""Agents' work: the queues of tasks people work through (calls to place, replies to read, cases to
review), one owner for `agent_tasks`."""
