# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sundial_global_optspecs
    string join \n c/config= log-dir= state-dir= runtime-dir= log-level= h/help V/version
end

function __fish_sundial_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sundial_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sundial_using_subcommand
    set -l cmd (__fish_sundial_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sundial -n "__fish_sundial_needs_command" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_needs_command" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_needs_command" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_needs_command" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_needs_command" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_needs_command" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_needs_command" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "start" -d 'Validate the config, detach and run the daemon in the background'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "run" -d 'Run the daemon in the foreground, logging to stderr (for systemd, containers, debugging)'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "stop" -d 'Stop the daemon and wait until it has exited'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "status" -d 'Show the running daemon: pid, uptime, jobs, runs in progress'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "reload" -d 'Make the daemon re-read its config; a bad file is rejected and the old one keeps running'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "list" -d 'List every job with its schedule, next run and last result'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "logs" -d 'Show a job\'s captured output'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "history" -d 'Show a job\'s past runs'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "trigger" -d 'Run a job now, outside its schedule'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "check" -d 'Validate the config and print every error with file:line:column'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "next" -d 'Print the next fire times of an expression (or a job) and describe it in plain English'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "import-crontab" -d 'Convert a crontab to sundial\'s YAML and print it'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "export" -d 'Print the jobs as Kubernetes CronJobs or systemd service and timer units'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c sundial -n "__fish_sundial_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sundial -n "__fish_sundial_using_subcommand start" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand start" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand start" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand start" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand start" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand start" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand start" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand run" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand run" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand run" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand run" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand run" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand run" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand run" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand stop" -l timeout -d 'How long to wait for the daemon to exit' -r
complete -c sundial -n "__fish_sundial_using_subcommand stop" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand stop" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand stop" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand stop" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand stop" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand stop" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand stop" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand status" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand status" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand status" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand status" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand status" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand status" -l json
complete -c sundial -n "__fish_sundial_using_subcommand status" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand status" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand reload" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand reload" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand reload" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand reload" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand reload" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand reload" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand reload" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand list" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand list" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand list" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand list" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand list" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand list" -l json
complete -c sundial -n "__fish_sundial_using_subcommand list" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand list" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand logs" -s n -l lines -d 'How many lines to show from the end' -r
complete -c sundial -n "__fish_sundial_using_subcommand logs" -l run -d 'Show one whole run, by its id' -r
complete -c sundial -n "__fish_sundial_using_subcommand logs" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand logs" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand logs" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand logs" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand logs" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand logs" -l last -d 'Show the most recent run whole'
complete -c sundial -n "__fish_sundial_using_subcommand logs" -s f -l follow -d 'Keep printing output as it is written'
complete -c sundial -n "__fish_sundial_using_subcommand logs" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand logs" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand history" -s n -l lines -d 'How many runs to show' -r
complete -c sundial -n "__fish_sundial_using_subcommand history" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand history" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand history" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand history" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand history" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand history" -l json
complete -c sundial -n "__fish_sundial_using_subcommand history" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand history" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand trigger" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand trigger" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand trigger" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand trigger" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand trigger" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand trigger" -l wait -d 'Wait for the run to end and exit like the job (its exit code, 128+signal, 124 on timeout)'
complete -c sundial -n "__fish_sundial_using_subcommand trigger" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand trigger" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand check" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand check" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand check" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand check" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand check" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand check" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand check" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand next" -l job -d 'Use this job\'s schedule and time zone' -r
complete -c sundial -n "__fish_sundial_using_subcommand next" -s n -l count -d 'How many fire times' -r
complete -c sundial -n "__fish_sundial_using_subcommand next" -l tz -d 'Time zone (IANA name) [default: the job\'s or the system\'s]' -r
complete -c sundial -n "__fish_sundial_using_subcommand next" -l from -d 'Start after this instant (RFC 3339, e.g. 2026-06-30T00:00:00Z) [default: now]' -r
complete -c sundial -n "__fish_sundial_using_subcommand next" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand next" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand next" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand next" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand next" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand next" -l json
complete -c sundial -n "__fish_sundial_using_subcommand next" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand next" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand import-crontab" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand import-crontab" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand import-crontab" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand import-crontab" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand import-crontab" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand import-crontab" -l system -d 'The system format, with a user column (/etc/crontab, /etc/cron.d/*)'
complete -c sundial -n "__fish_sundial_using_subcommand import-crontab" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand import-crontab" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand export" -l to -d 'What to export to' -r -f -a "kubernetes\t''
systemd\t''"
complete -c sundial -n "__fish_sundial_using_subcommand export" -l image -d 'Kubernetes: the container image the jobs run in' -r
complete -c sundial -n "__fish_sundial_using_subcommand export" -l namespace -d 'Kubernetes: the namespace' -r
complete -c sundial -n "__fish_sundial_using_subcommand export" -l dir -d 'systemd: write the unit files into this folder instead of printing them' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand export" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand export" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand export" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand export" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand export" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand export" -l user -d 'systemd: write user units (systemctl --user)'
complete -c sundial -n "__fish_sundial_using_subcommand export" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand export" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand completions" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand completions" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand completions" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand completions" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand completions" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand completions" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand man" -s c -l config -d 'The jobs file [default: /etc/sundial/jobs.yaml as root, $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand man" -l log-dir -d 'Where job logs and the daemon\'s own log go (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand man" -l state-dir -d 'Where the run history database lives (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand man" -l runtime-dir -d 'Where the lock, pid file and control socket live (overrides the config file)' -r -F
complete -c sundial -n "__fish_sundial_using_subcommand man" -l log-level -d 'The daemon\'s log level or filter (error, warn, info, debug, trace); RUST_LOG works too' -r
complete -c sundial -n "__fish_sundial_using_subcommand man" -s h -l help -d 'Print help'
complete -c sundial -n "__fish_sundial_using_subcommand man" -s V -l version -d 'Print version'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "start" -d 'Validate the config, detach and run the daemon in the background'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "run" -d 'Run the daemon in the foreground, logging to stderr (for systemd, containers, debugging)'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "stop" -d 'Stop the daemon and wait until it has exited'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "status" -d 'Show the running daemon: pid, uptime, jobs, runs in progress'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "reload" -d 'Make the daemon re-read its config; a bad file is rejected and the old one keeps running'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "list" -d 'List every job with its schedule, next run and last result'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "logs" -d 'Show a job\'s captured output'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "history" -d 'Show a job\'s past runs'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "trigger" -d 'Run a job now, outside its schedule'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "check" -d 'Validate the config and print every error with file:line:column'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "next" -d 'Print the next fire times of an expression (or a job) and describe it in plain English'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "import-crontab" -d 'Convert a crontab to sundial\'s YAML and print it'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "export" -d 'Print the jobs as Kubernetes CronJobs or systemd service and timer units'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "completions" -d 'Print shell completions'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "man" -d 'Print the man page (roff)'
complete -c sundial -n "__fish_sundial_using_subcommand help; and not __fish_seen_subcommand_from start run stop status reload list logs history trigger check next import-crontab export completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
