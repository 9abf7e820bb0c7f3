# sheet2video — every target works from a clean clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install demo farm-demo test bench soak clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	bash scripts/ensure-fonts
	bash scripts/ensure-test-tools
	touch $@

demo: install
	$(BIN)/python -m sheet2video.samples.demo

farm-demo: install  # Redis, an S3 server, two workers and the engine on loopback; all stopped after
	$(BIN)/python -m sheet2video.samples.farm_demo

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench

soak: install
	SHEET2VIDEO_SOAK=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/reliability

clean:
	rm -rf $(VENV) demo demo-farm .sheet2video example_sheets/media
