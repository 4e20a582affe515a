# mailplane — the two commands (each provisions what it needs: Node 24, npm packages, the Pulumi CLI,
# PostgreSQL and the SMTP peers used by tests):
#   make demo   platform up, `pulumi up` of the example tenancy, mail sent, the policy seen acting
#   make test   format + lint, typecheck, unit, integration (SQLite and PostgreSQL) and e2e (real CLI) tests
.PHONY: demo test setup toolchain clean

demo:
	@bash scripts/run.sh node scripts/demo.ts

test: setup
	@bash scripts/run.sh npm test

# Debian packages the tests use (PostgreSQL server, swaks, Postfix's smtp-sink); no-ops when present.
setup:
	@bash scripts/system-deps.sh

toolchain:
	@bash scripts/run.sh pulumi version

clean:
	rm -rf .toolchain .pulumi .data dist node_modules
