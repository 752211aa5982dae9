.PHONY: book test bench clean
book:            ## set up everything and build the site into _build/html
	bash tools/setup.sh
	bash tools/build.sh
test:            ## library tests, book build, site checks in headless Chromium
	bash tools/test.sh
bench:           ## print the benchmark figures
	.venv/bin/python benchmarks/run_all.py
clean:
	rm -rf _build
