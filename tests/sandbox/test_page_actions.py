"""Page actions: the host program's buttons above a chat (the demo's "send the digest now")."""

from __future__ import annotations

import pytest

from sandbox import PageAction, RunningSandbox, SandboxState
from sandbox.client import SandboxClient, SandboxClientError


async def test_an_action_is_listed_only_for_its_users_and_runs_with_the_user_id(
    sandbox: RunningSandbox, state: SandboxState, client: SandboxClient
) -> None:
    ran: list[int] = []

    async def run(user_id: int) -> str:
        ran.append(user_id)
        return f"done for {user_id}"

    regulator = await client.create_user("刘洋", started=True)
    foreman = await client.create_user("王工", started=True)
    state.add_action(PageAction("digest", "发送日报", run, frozenset({regulator.user_id})))

    assert await regulator.actions() == [{"id": "digest", "label": "发送日报"}]
    assert await foreman.actions() == []
    assert await regulator.run_action("digest") == f"done for {regulator.user_id}"
    with pytest.raises(SandboxClientError) as not_theirs:
        await foreman.run_action("digest")
    assert not_theirs.value.status == 404
    assert ran == [regulator.user_id]


async def test_a_failing_action_answers_500_with_the_error(
    sandbox: RunningSandbox, state: SandboxState, client: SandboxClient
) -> None:
    async def broken(user_id: int) -> None:
        raise RuntimeError("database is away")

    user = await client.create_user("李红", started=True)
    state.add_action(PageAction("broken", "坏按钮", broken))

    with pytest.raises(SandboxClientError) as failed:
        await user.run_action("broken")
    assert failed.value.status == 500
    assert "database is away" in failed.value.message
