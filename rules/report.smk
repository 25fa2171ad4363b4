"""The usage report: one self-contained page and its CSV files, rebuilt when a summary changes."""


rule report:
    input:
        report_inputs,
    output:
        report(
            "report/{hub}/index.html",
            category="Usage",
            caption="../config/report-caption.rst",
        ),
    log:
        rule_log("report", "index"),
    benchmark:
        rule_benchmark("report", "index")
    priority: 0
    conda:
        "../envs/hzflow.yaml"
    params:
        hzflow=HZFLOW,
        hub=hub_args,
    shell:
        "{params.hzflow} {params.hub} report --publish > {log} 2>&1"
