# xinfang — the two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help venv web demo test test-long fuzz chaos cluster-chaos test-unit test-backends test-contract test-integration lint typecheck kafka-fetch kafka-start kafka-stop kafka-status keycloak-fetch keycloak-start keycloak-stop keycloak-status clean

help:
	@echo "make demo   — 演示：启动 Kafka 与三级节点，流转一个事项 / run the three-level demo"
	@echo "make test   — 运行测试（长时测试除外）/ run the tests but the long ones (starts its own broker)"
	@echo "make test-long — 长时测试：三代理集群故障 / the long tests (3-broker cluster chaos smoke)"
	@echo "make fuzz   — 接口模糊测试长版：每个操作 100 个样例 / the API fuzz test, 100 examples per operation"
	@echo "make lint   — ruff + mypy --strict"
	@echo "make web    — 构建信访工作台（web/ → services/xinfang/web_dist/）/ build the staff console"
	@echo "make chaos  — 故障注入：1000 个事项 / fault injection with 1,000 cases (docs/reliability.md)"
	@echo "make cluster-chaos — 三节点集群逐个 SIGKILL 代理 / 1,000 cases, brokers SIGKILLed in turn"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The staff console (decision 029): npm ci when the lock changed, then a build into the package
WEB_STAMP := web/node_modules/.ci-stamp
$(WEB_STAMP): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

web: $(WEB_STAMP)
	cd web && npm run build

kafka-fetch:
	bash deploy/kafka/kafka.sh fetch

# Keycloak (the OIDC provider of the sign-in tests, decision 026): the zip from Maven Central
keycloak-fetch:
	bash deploy/keycloak/keycloak.sh fetch

demo: $(STAMP) kafka-fetch web
	$(BIN)/xinfang demo --output demo-output

# The unit tests on both cores (pytest-xdist), then the rest in order: one broker, one Keycloak
test: $(STAMP) kafka-fetch keycloak-fetch web
	$(BIN)/python -m pytest -n 2 tests/unit
	$(BIN)/python -m pytest tests/backends tests/integration

# What `make test` leaves out for time (marker `long`): the 3-broker cluster chaos smoke
test-long: $(STAMP) kafka-fetch keycloak-fetch web
	$(BIN)/python -m pytest -m long

# The API fuzz test at length (decision 039): `make test` runs it with a few examples per operation
FUZZ_EXAMPLES ?= 100
fuzz: $(STAMP) kafka-fetch
	XINFANG_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest --timeout=1800 tests/integration/test_api_fuzz.py

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

test-backends: $(STAMP)
	$(BIN)/python -m pytest tests/backends

# the old name of test-backends (tests/contract was renamed: contract/ is the integrators' contract)
test-contract: test-backends

test-integration: $(STAMP) kafka-fetch keycloak-fetch web
	$(BIN)/python -m pytest tests/integration

.PHONY: bench
bench: $(STAMP) kafka-fetch
	$(BIN)/python -m bench.run $(BENCH_ARGS)

chaos: $(STAMP) kafka-fetch
	$(BIN)/python -m xinfang.devtools.chaos --cases 1000 --report docs/reliability.md

# 1,000 cases on a secured 3-broker cluster, one broker SIGKILLed at a time (decision 018)
cluster-chaos: $(STAMP) kafka-fetch
	$(BIN)/python -m xinfang.devtools.cluster_chaos --cases 1000

lint: $(STAMP) $(WEB_STAMP)
	$(BIN)/ruff check services tests examples
	$(BIN)/mypy
	cd web && npm run api:check && npm run typecheck

kafka-start:
	bash deploy/kafka/kafka.sh start
kafka-stop:
	bash deploy/kafka/kafka.sh stop
kafka-status:
	bash deploy/kafka/kafka.sh status
keycloak-start: $(STAMP)
	bash deploy/keycloak/keycloak.sh start
keycloak-stop:
	bash deploy/keycloak/keycloak.sh stop
keycloak-status:
	bash deploy/keycloak/keycloak.sh status

clean:
	rm -rf $(VENV) web/node_modules services/xinfang/web_dist demo-output var .pytest_cache .mypy_cache .ruff_cache
