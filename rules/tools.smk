"""Tool statistics: each month's tool sessions enriched, then the hub's per-tool tables.

They read the hub's own session records, not the logs, so every month of the
range gets them (the current one on every run, as the reference does), and
a month whose logs are missing still does.  Their long windows include the
months before, so each month's depend on the previous month's.
"""


rule tool_stats:
    input:
        month_inputs(registry.TOOLS),
    output:
        marker(registry.TOOLS, "{month}"),
    log:
        rule_log("tool_stats", "{month}"),
    benchmark:
        rule_benchmark("tool_stats", "{month}")
    priority: month_priority
    conda:
        "../envs/hzflow.yaml"
    resources:
        **WRITER,
    params:
        hzflow=HZFLOW,
        hub=hub_args,
    shell:
        "{params.hzflow} {params.hub} tool-stats {wildcards.month} "
        "--marker {output} > {log} 2>&1"
