"""Mesa agents are live views of the state arrays."""

from __future__ import annotations

from sim.agents import CustomerAgent, EmployeeAgent, FirmAgent
from sim.app import load_config
from sim.model import EmpathyMarket


def test_agent_views_read_the_arrays():
    model = EmpathyMarket(load_config(["market.customers=500", "run.progress=false"]))
    firms = list(model.agents_by_type[FirmAgent])
    assert [f.name for f in firms] == model.firms.names and firms[0].role == "focal"
    assert sum(f.customers for f in firms) == int((model.customers.firm >= 0).sum())
    served = int((model.customers.firm >= 0).argmax())
    customer = model.customer(served)
    assert isinstance(customer, CustomerAgent) and customer is model.customer(served)
    assert customer.firm is firms[model.customers.firm[served]]
    assert set(customer.neighbours) and served not in customer.neighbours
    model.customers.attachment[served] = 0.42
    assert abs(customer.attachment - 0.42) < 1e-6
    employee = model.employee(0)
    assert isinstance(employee, EmployeeAgent) and employee.status == "active"
    for _ in range(3):
        model.step()
    assert model.week == 3 and 0 <= employee.burnout <= 1
