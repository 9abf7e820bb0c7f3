# sheet2video — every target works from a clean clone.
# install: what the product needs to run (the package, FFmpeg and voices from wheels, fonts from
# Debian). install-test: that plus the test extras (pytest, moto, the official SDKs, xlsxwriter) and the
# programs tests start (chromium, redis-server, LibreOffice). `make test` and the farm's demo install them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install install-test demo farm-demo test bench-tools bench bench-quick bench-campaign soak clean

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	bash scripts/ensure-fonts
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	bash scripts/ensure-test-tools
	touch $@

demo: install
	$(BIN)/python -m sheet2video.samples.demo

farm-demo: install-test  # Redis, an S3 server (moto), two workers and the engine on loopback; all stopped after
	$(BIN)/python -m sheet2video.samples.farm_demo

test: install-test
	$(BIN)/python -m pytest -q -p no:cacheprovider

# MoviePy, the peer of moviepy_vs_render, pins Pillow < 12 and would downgrade the product's own
# Pillow: it is installed without its dependencies (it runs on ours), and those it needs beside
bench-tools: install-test
	$(BIN)/pip install -q --no-deps 'moviepy>=2.1,<3'
	$(BIN)/pip install -q decorator imageio proglog python-dotenv

bench: bench-tools
	$(BIN)/python -m bench

# one repetition of every benchmark: proves they still run; NOT a measurement (writes bench/work/ only)
bench-quick: bench-tools
	$(BIN)/python -m bench --quick

# the 50-row campaign (100 videos at 1080x1920, 15 s) locally and on a 2-worker farm, and the first preview
bench-campaign: bench-tools
	$(BIN)/python -m bench --only campaign

soak: install-test
	SHEET2VIDEO_SOAK=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/reliability

clean:
	rm -rf $(VENV) demo demo-farm .sheet2video example_sheets/media
