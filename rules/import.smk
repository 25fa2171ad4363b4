"""Import: one job per day with logs, one aggregate per month, then archiving."""


rule import_day:
    input:
        unpack(day_inputs),
    output:
        day_marker("{day}"),
    log:
        rule_log("import_day", "{day}"),
    benchmark:
        rule_benchmark("import_day", "{day}")
    resources:
        db_writers=1,
    shell:
        "{HZFLOW} --config {CONFIG_FILE} import-day {wildcards.day} --marker {output} > {log} 2>&1"


rule note_new_sources:
    output:
        new_sources_note("{day}", "{key}"),
    log:
        rule_log("note_new_sources", "{day}.{key}"),
    benchmark:
        rule_benchmark("note_new_sources", "{day}.{key}")
    shell:
        "{HZFLOW} --config {CONFIG_FILE} note-sources {wildcards.day} --marker {output} > {log} 2>&1"


rule import_month:
    input:
        month_day_markers,
    output:
        marker("imported", "{month}"),
    log:
        rule_log("import_month", "{month}"),
    benchmark:
        rule_benchmark("import_month", "{month}")
    shell:
        "{HZFLOW} --config {CONFIG_FILE} import-month {wildcards.month} --marker {output} > {log} 2>&1"


rule archive_month:
    input:
        marker("imported", "{month}"),
    output:
        marker("archived", "{month}"),
    log:
        rule_log("archive_month", "{month}"),
    benchmark:
        rule_benchmark("archive_month", "{month}")
    resources:
        db_writers=1,
    shell:
        "{HZFLOW} --config {CONFIG_FILE} archive-logs {wildcards.month} --marker {output} > {log} 2>&1"
