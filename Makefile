# Install hzflow on a hub:   sudo make install SITE=myhub HZFLOW_USER=apache
# Remove it again:           sudo make uninstall SITE=myhub
# Staged (packaging):        make install DESTDIR=/tmp/stage
#
# `install` puts the package and its pinned dependencies in a venv of its own
# (PREFIX/venv), the sample config in SYSCONFDIR/hzflow (and SITE.yaml from it
# when that does not exist yet), a cron.d file or systemd timers (SCHEDULER),
# a logrotate stanza, the docs, and the work directory owned by the service
# user.  Running it again upgrades the package and keeps the operator's config
# and data.  `uninstall` removes what install laid down except the config,
# the work directory (state, logs) and the databases.  docs/install.md walks a
# hub through it.

# Every recipe line runs in bash with pipefail: a failing step in a pipe fails the install.
SHELL          := /bin/bash
.SHELLFLAGS    := -o pipefail -c

SITE           ?= myhub
HZFLOW_USER    ?= apache
HZFLOW_GROUP   ?= $(HZFLOW_USER)
PREFIX         ?= /opt/hzflow
SYSCONFDIR     ?= /etc
WORKDIR        ?= /var/lib/hzflow/$(SITE)
# cron (a file in /etc/cron.d), systemd (timers), or none
SCHEDULER      ?= cron
SYSTEMDUNITDIR ?= /etc/systemd/system
PYTHON         ?= python3
# extra pip options, e.g. --no-index --find-links /srv/wheels on a host without an index
PIP_ARGS       ?=
BUILDDIR       ?= $(CURDIR)/build
DESTDIR        ?=

VENV    := $(PREFIX)/venv
CONFIG  := $(SYSCONFDIR)/hzflow/$(SITE).yaml
DOCDIR  := $(PREFIX)/share/doc/hzflow
UNITS   := hzflow@.service hzflow@.timer hzflow-whoisonline@.service hzflow-whoisonline@.timer
SUBST   := sed -e 's|@SITE@|$(SITE)|g' -e 's|@USER@|$(HZFLOW_USER)|g' -e 's|@GROUP@|$(HZFLOW_GROUP)|g' \
               -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@CONFIG@|$(CONFIG)|g' \
               -e 's|@WORKDIR@|$(WORKDIR)|g'
# Ownership is given to the service user when installing as root and the user exists;
# a staged install by a packager who has no such user leaves it to the package.
OWNER   := $(shell [ "$$(id -u)" = 0 ] && id -u $(HZFLOW_USER) >/dev/null 2>&1 && echo "-o $(HZFLOW_USER) -g $(HZFLOW_GROUP)")

.PHONY: help install uninstall wheel check-user

help:  ## list the targets and the variables they take
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: SITE HZFLOW_USER HZFLOW_GROUP PREFIX SYSCONFDIR WORKDIR SCHEDULER SYSTEMDUNITDIR PYTHON PIP_ARGS DESTDIR"

check-user:
	@case "$(SCHEDULER)" in cron|systemd|none) ;; *) echo "SCHEDULER must be cron, systemd or none" >&2; exit 2 ;; esac
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! id -u $(HZFLOW_USER) >/dev/null 2>&1; then \
	    echo "the service user $(HZFLOW_USER) does not exist: make install HZFLOW_USER=<the hub's web server user>" >&2; exit 2; fi

# The wheel is built from a copy of the sources, so the checkout stays clean.
wheel:
	rm -rf "$(BUILDDIR)" && mkdir -p "$(BUILDDIR)/src"
	tar -C "$(CURDIR)" --exclude=__pycache__ --exclude='*.egg-info' -cf - \
	    pyproject.toml README.md Snakefile rules profiles config envs scripts | tar -C "$(BUILDDIR)/src" -xf -

install: check-user wheel  ## install (or upgrade) hzflow; keeps an existing config
	$(PYTHON) -m venv "$(DESTDIR)$(VENV)"
	"$(DESTDIR)$(VENV)/bin/python" -m pip wheel -q --no-deps -w "$(BUILDDIR)" "$(BUILDDIR)/src"
	"$(DESTDIR)$(VENV)/bin/python" -m pip install -q --no-compile $(PIP_ARGS) "$(BUILDDIR)"/hzflow-*.whl
	"$(DESTDIR)$(VENV)/bin/python" -m pip install -q --no-compile --no-deps --force-reinstall "$(BUILDDIR)"/hzflow-*.whl
	@if [ -n "$(DESTDIR)" ]; then \
	    grep -rlI -- "$(DESTDIR)$(VENV)" "$(DESTDIR)$(VENV)/bin" "$(DESTDIR)$(VENV)/pyvenv.cfg" \
	        | xargs -r sed -i -e 's|$(DESTDIR)$(VENV)|$(VENV)|g'; \
	    "$(DESTDIR)$(VENV)/bin/python" -m compileall -f -q -s "$(DESTDIR)" -p / "$(DESTDIR)$(VENV)/lib" >/dev/null; \
	else "$(VENV)/bin/python" -m compileall -q "$(VENV)/lib" >/dev/null; fi
	install -d -m 0755 "$(DESTDIR)$(SYSCONFDIR)/hzflow" "$(DESTDIR)$(DOCDIR)"
	install -m 0644 config/config.yaml "$(DESTDIR)$(SYSCONFDIR)/hzflow/hzflow.yaml.sample"
	install -m 0644 README.md docs/*.md "$(DESTDIR)$(DOCDIR)/"
	@if [ -e "$(DESTDIR)$(CONFIG)" ]; then echo "keeping $(CONFIG)"; else \
	    sed -e 's|myhub|$(SITE)|g' -e 's|^\(  work_dir:\).*|\1 $(WORKDIR)|' -e 's|^\(  state_dir:\).*|\1 $(WORKDIR)/state|' \
	        -e 's|^\(  password_file:\).*|\1 $(SYSCONFDIR)/hzflow/$(SITE).password|' config/config.yaml > "$(BUILDDIR)/$(SITE).yaml" \
	    && install -m 0600 $(OWNER) "$(BUILDDIR)/$(SITE).yaml" "$(DESTDIR)$(CONFIG)"; fi
	install -d -m 0750 $(OWNER) "$(DESTDIR)$(WORKDIR)" "$(DESTDIR)$(WORKDIR)/state"
	install -d -m 0755 "$(DESTDIR)$(SYSCONFDIR)/logrotate.d"
	$(SUBST) packaging/logrotate/hzflow.in > "$(DESTDIR)$(SYSCONFDIR)/logrotate.d/hzflow-$(SITE)"
	@if [ "$(SCHEDULER)" = cron ]; then \
	    install -d -m 0755 "$(DESTDIR)$(SYSCONFDIR)/cron.d" \
	    && $(SUBST) packaging/cron.d/hzflow.in > "$(DESTDIR)$(SYSCONFDIR)/cron.d/hzflow-$(SITE)" \
	    && chmod 0644 "$(DESTDIR)$(SYSCONFDIR)/cron.d/hzflow-$(SITE)"; fi
	@if [ "$(SCHEDULER)" = systemd ]; then \
	    install -d -m 0755 "$(DESTDIR)$(SYSTEMDUNITDIR)" && for unit in $(UNITS); do \
	        if [ -e "packaging/systemd/$$unit.in" ]; then $(SUBST) "packaging/systemd/$$unit.in" > "$(DESTDIR)$(SYSTEMDUNITDIR)/$$unit"; \
	        else install -m 0644 "packaging/systemd/$$unit" "$(DESTDIR)$(SYSTEMDUNITDIR)/$$unit"; fi; \
	        chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/$$unit"; done; fi
	@echo
	@echo "hzflow $$("$(DESTDIR)$(VENV)/bin/python" -c 'import hzflow; print(hzflow.version())') is in $(VENV)."
	@[ -n "$(OWNER)" ] || echo "note: no files were given to $(HZFLOW_USER) (not root, or no such user here): chown $(WORKDIR) and $(CONFIG) to it."
	@echo "Next, as in $(DOCDIR)/install.md:"
	@echo "  edit $(CONFIG) (database, log paths) and put the password in $(SYSCONFDIR)/hzflow/$(SITE).password (mode 0600, owner $(HZFLOW_USER))"
	@echo "  sudo -u $(HZFLOW_USER) HZFLOW_CONFIG=$(CONFIG) $(VENV)/bin/hzflow init && ... hzflow doctor && ... hzflow plan"
	@if [ "$(SCHEDULER)" = cron ]; then echo "  cron runs it from $(SYSCONFDIR)/cron.d/hzflow-$(SITE) (every 10 minutes; whoisonline every 5)"; fi
	@if [ "$(SCHEDULER)" = systemd ]; then echo "  systemctl daemon-reload && systemctl enable --now hzflow@$(SITE).timer hzflow-whoisonline@$(SITE).timer"; fi

uninstall:  ## remove the software, the schedule and the stanza; keeps config, state, logs and databases
	rm -rf "$(DESTDIR)$(VENV)" "$(DESTDIR)$(DOCDIR)"
	rm -f "$(DESTDIR)$(SYSCONFDIR)/hzflow/hzflow.yaml.sample" "$(DESTDIR)$(SYSCONFDIR)/cron.d/hzflow-$(SITE)" \
	    "$(DESTDIR)$(SYSCONFDIR)/logrotate.d/hzflow-$(SITE)" $(addprefix "$(DESTDIR)$(SYSTEMDUNITDIR)/,$(addsuffix ",$(UNITS)))
	-rmdir "$(DESTDIR)$(PREFIX)/share/doc" "$(DESTDIR)$(PREFIX)/share" "$(DESTDIR)$(PREFIX)" 2>/dev/null
	@echo "kept: $(CONFIG), $(WORKDIR) (markers, logs) and the databases; remove them by hand if they should go."
