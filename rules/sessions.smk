"""Sessions: a complete month's visitor sessions, rebuilt from its rows, and their hosts and countries."""


rule sessionize_month:
    input:
        month_inputs(registry.SESSIONS),
    output:
        marker(registry.SESSIONS, "{month}"),
    log:
        rule_log("sessionize_month", "{month}"),
    benchmark:
        rule_benchmark("sessionize_month", "{month}")
    priority: month_priority
    conda:
        "../envs/hzflow.yaml"
    resources:
        **WRITER,
    params:
        hzflow=HZFLOW,
        hub=hub_args,
    shell:
        "{params.hzflow} {params.hub} sessionize-month {wildcards.month} "
        "--marker {output} > {log} 2>&1"
