"""Sessions, bot cleaning and tool statistics for each month."""


rule sessionize_month:
    input:
        marker("dns-resolved", "{month}"),
    output:
        marker("sessionized", "{month}"),
    log:
        rule_log("sessionize_month", "{month}"),
    benchmark:
        rule_benchmark("sessionize_month", "{month}")
    resources:
        db_writers=1,
    shell:
        "{HZFLOW} --config {CONFIG_FILE} sessionize-month {wildcards.month} --marker {output} > {log} 2>&1"
