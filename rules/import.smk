"""Import: every pending day in one job, oldest first.

One process imports them all, in date order across months: what a day
teaches the import (crawler agents) applies to the days after it, whatever
order Snakemake would run jobs in, and a day costs no process of its own.
The logs are not inputs of the job (which days are pending is decided from
the log directories and the day markers when the workflow is parsed), so
archiving a log, or a log that cannot even be stat-ed, never touches
Snakemake's own bookkeeping.
"""


rule import_days:
    output:
        marker=batch_marker(),
    log:
        rule_log("import_days", "{key}"),
    benchmark:
        rule_benchmark("import_days", "{key}")
    priority: 1_000_000
    conda:
        "../envs/hzflow.yaml"
    resources:
        **WRITER,
    params:
        hzflow=HZFLOW,
        hub=hub_args,
        days=import_days,
    shell:
        "{params.hzflow} {params.hub} import-days {params.days} "
        "--marker {output.marker} > {log} 2>&1"
