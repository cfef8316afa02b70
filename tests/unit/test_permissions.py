"""The permission matrix: cumulative roles, and a refusal that says who may."""

from __future__ import annotations

import itertools

import pytest

from clinicledger.domain.errors import Forbidden
from clinicledger.domain.permissions import (
    LEAST_ROLE,
    ROLES,
    Action,
    Role,
    allowed,
    may,
    report_action,
    require,
)


def test_every_action_has_its_least_role_and_words() -> None:
    from clinicledger.domain.permissions import DOING

    assert set(LEAST_ROLE) == set(Action) == set(DOING)


def test_each_role_may_do_what_the_one_before_it_may_and_more() -> None:
    for lower, higher in itertools.pairwise(ROLES):
        assert allowed(lower) < allowed(higher), (lower, higher)
    assert allowed(Role.ADMIN) == frozenset(Action)


@pytest.mark.parametrize(
    ("action", "least"),
    [
        (Action.PAYMENT_ALLOCATE, Role.RECEPTION),  # issue 10: reception allocates
        (Action.PAYMENT_REFUND, Role.BILLING),
        (Action.LINE_DELETE, Role.BILLING),
        (Action.PERIOD_CLOSE, Role.MANAGER),
        (Action.REPORT_INCOME, Role.MANAGER),  # income per provider needs manager
        (Action.USER_MANAGE, Role.ADMIN),
    ],
)
def test_the_issues_rules(action: Action, least: Role) -> None:
    assert [role for role in ROLES if may(role, action)] == list(ROLES[ROLES.index(least) :])


def test_income_reports_need_the_income_action() -> None:
    assert report_action("income-by-provider") is Action.REPORT_INCOME
    assert report_action("debtors") is Action.REPORT_RUN


def test_a_refusal_names_the_role_and_who_may() -> None:
    with pytest.raises(Forbidden) as refused:
        require(Role.RECEPTION, Action.PAYMENT_REFUND)
    assert (refused.value.code, refused.value.message) == (
        "forbidden",
        "a reception user may not refund payments (payment.refund: billing or above)",
    )
    require(Role.BILLING, Action.PAYMENT_REFUND)
