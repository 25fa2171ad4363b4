"""Enrichment: hub data, reverse DNS, domain and country for each month."""


rule enrich_month:
    input:
        marker("imported", "{month}"),
    output:
        marker("dns-resolved", "{month}"),
    log:
        rule_log("enrich_month", "{month}"),
    benchmark:
        rule_benchmark("enrich_month", "{month}")
    resources:
        db_writers=1,
    shell:
        "{HZFLOW} --config {CONFIG_FILE} enrich-month {wildcards.month} --marker {output} > {log} 2>&1"
