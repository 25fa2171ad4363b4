"""The per-month audit (audit.enabled): hzflow audit's findings for each summarized month.

Redone whenever the month's summary changes; findings are recorded in the
marker, not treated as a failure (hzflow status counts them).
"""


rule audit_month:
    input:
        month_inputs(registry.AUDIT),
    output:
        marker(registry.AUDIT, "{month}"),
    log:
        rule_log("audit_month", "{month}"),
    priority: 0
    conda:
        "../envs/hzflow.yaml"
    params:
        hzflow=HZFLOW,
        hub=hub_args,
    shell:
        "{params.hzflow} {params.hub} audit --month {wildcards.month} "
        "--marker {output} > {log} 2>&1"
