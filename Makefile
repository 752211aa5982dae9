.PHONY: book test check lint bench clean
book:            ## set up everything and build the site into _build/html
	bash tools/setup.sh
	bash tools/build.sh
test:            ## everything CI runs: library tests, both book builds, site checks, launch paths
	bash tools/test.sh
check:           ## while you work: linter + library tests, no book build or browser (minutes)
	bash tools/check.sh
lint:            ## the linter alone (ruff; settings in pyproject.toml)
	.venv/bin/ruff check .
bench:           ## print the benchmark figures
	.venv/bin/python benchmarks/run_all.py
clean:
	rm -rf _build
