"""Resolve: a month's logs all imported, then hosts, domains, countries, profiles, tool statistics.

The reference's month analysis without its sessions: it runs on the
current month whenever a day arrives, and once more when a rerun needs it.
"""


rule resolve_month:
    input:
        resolve_inputs,
    output:
        imported=marker(registry.IMPORTED, "{month}"),
        resolved=marker(registry.RESOLVED, "{month}"),
    log:
        rule_log("resolve_month", "{month}"),
    benchmark:
        rule_benchmark("resolve_month", "{month}")
    priority: month_priority
    conda:
        "../envs/hzflow.yaml"
    resources:
        **WRITER,
    params:
        hzflow=HZFLOW,
        hub=hub_args,
    shell:
        "{params.hzflow} {params.hub} resolve-month {wildcards.month} "
        "--imported-marker {output.imported} --marker {output.resolved} > {log} 2>&1"


rule note_dns_retry:
    output:
        dns_retry_note("{month}", "{attempt}"),
    log:
        rule_log("note_dns_retry", "{month}.{attempt}"),
    conda:
        "../envs/hzflow.yaml"
    params:
        hzflow=HZFLOW,
        hub=hub_args,
    shell:
        "{params.hzflow} {params.hub} note-dns-retry {wildcards.month} "
        "{wildcards.attempt} --marker {output} > {log} 2>&1"
