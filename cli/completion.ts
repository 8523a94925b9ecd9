/**
 * `trustwatch completion bash|zsh|fish|powershell`: prints a shell completion script generated
 * from the command tree, so every command, flag and choice (`-o table|wide|json|csv|tui`) is
 * offered, for both `trustwatch` and the kubectl plugin binary `kubectl-trustwatch`.
 *
 * @module
 */
import { Command, type Option } from "@commander-js/extra-typings";

/** Shells `completion` writes scripts for. */
export const COMPLETION_SHELLS = ["bash", "zsh", "fish", "powershell"] as const;

/** A shell `completion` writes a script for. */
export type CompletionShell = typeof COMPLETION_SHELLS[number];

/** Executable names the scripts complete: the binary and its kubectl plugin name. */
export const COMPLETED_NAMES = ["trustwatch", "kubectl-trustwatch"] as const;

/** Source of the completions for a flag's value. */
export type ValueKind = "none" | "choices" | "file" | "context" | "namespace" | "free";

/** A flag as the completion scripts see it. */
export interface CompletionFlag {
  /** Every spelling, e.g. `["-o", "--output"]`. */
  names: string[];
  description: string;
  value: ValueKind;
  choices: string[];
}

/** A subcommand with its flags. */
export interface CompletionCommand {
  name: string;
  description: string;
  flags: CompletionFlag[];
}

/** Lists the names of the kubeconfig's contexts, as `kubectl config get-contexts -o name`. */
const CONTEXTS_COMMAND = "kubectl config get-contexts -o name 2>/dev/null";
/** Lists the cluster's namespaces by name. */
const NAMESPACES_COMMAND =
  "kubectl get namespaces -o custom-columns=:metadata.name --no-headers 2>/dev/null";

/** Builds the `completion` command; `program` returns the root command whose tree is described. */
export function completionCommand(program: () => Command): Command {
  return new Command("completion")
    .description("Print a shell completion script for trustwatch and kubectl-trustwatch")
    .argument("<shell>", `shell: ${COMPLETION_SHELLS.join(", ")}`)
    .addHelpText(
      "after",
      `
Load it in the current shell, or add the line to the shell's start-up file:
  bash:        source <(trustwatch completion bash)
  zsh:         source <(trustwatch completion zsh)
  fish:        trustwatch completion fish | source
  powershell:  trustwatch completion powershell | Out-String | Invoke-Expression

The scripts complete both trustwatch and kubectl-trustwatch. As a kubectl plugin:
  kubectl trustwatch completion bash > /etc/bash_completion.d/trustwatch`,
    )
    .action((shell) => {
      if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
        console.error(
          `trustwatch: unsupported shell "${shell}"; expected one of ${
            COMPLETION_SHELLS.join(", ")
          }`,
        );
        Deno.exitCode = 3;
        return;
      }
      const script = completionScript(shell as CompletionShell, completionModel(program()));
      Deno.stdout.writeSync(new TextEncoder().encode(script));
    }) as unknown as Command;
}

/** Describes the subcommands and flags of a command tree for the script generators. */
export function completionModel(program: Command): CompletionCommand[] {
  return program.commands.map((command) => ({
    name: command.name(),
    description: command.description().split("\n")[0],
    flags: [...command.options.map(flagOf), HELP_FLAG],
  }));
}

const HELP_FLAG: CompletionFlag = {
  names: ["-h", "--help"],
  description: "display help for command",
  value: "none",
  choices: [],
};

function flagOf(option: Option): CompletionFlag {
  const names = [option.short, option.long].filter((name): name is string => Boolean(name));
  const choices = [...option.argChoices ?? []];
  const takesValue = option.required || option.optional;
  let value: ValueKind = "none";
  if (choices.length > 0) value = "choices";
  else if (!takesValue) value = "none";
  else if (option.long === "--context") value = "context";
  else if (option.long === "--namespace") value = "namespace";
  else if (/<(path|file)>/.test(option.flags)) value = "file";
  else value = "free";
  return { names, description: option.description, value, choices };
}

/** Returns the completion script of one shell for a command tree. */
export function completionScript(shell: CompletionShell, commands: CompletionCommand[]): string {
  switch (shell) {
    case "bash":
      return bashScript(commands);
    case "zsh":
      return zshScript(commands);
    case "fish":
      return fishScript(commands);
    case "powershell":
      return powershellScript(commands);
  }
}

function bashScript(commands: CompletionCommand[]): string {
  const commandNames = commands.map((command) => command.name).join(" ");
  const cases = commands.map((command) => {
    const valueCases = command.flags
      .filter((flag) => flag.value !== "none")
      .map((flag) => `        ${flag.names.join("|")}) ${bashValueCompletion(flag)}; return ;;`);
    const flags = command.flags.flatMap((flag) => flag.names).join(" ");
    return [
      `    ${command.name})`,
      ...(valueCases.length > 0 ? ['      case "$prev" in', ...valueCases, "      esac"] : []),
      `      COMPREPLY=($(compgen -W "${flags}" -- "$cur")) ;;`,
    ].join("\n");
  });
  return `# bash completion for trustwatch and kubectl-trustwatch
# Load with: source <(trustwatch completion bash)
_trustwatch() {
  local cur prev command i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  command=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) command="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$command" in
${cases.join("\n")}
    *)
      COMPREPLY=($(compgen -W "${commandNames} -h --help -v --version" -- "$cur")) ;;
  esac
}
complete -F _trustwatch ${COMPLETED_NAMES.join(" ")}
`;
}

function bashValueCompletion(flag: CompletionFlag): string {
  switch (flag.value) {
    case "choices":
      return `COMPREPLY=($(compgen -W "${flag.choices.join(" ")}" -- "$cur"))`;
    case "file":
      return `COMPREPLY=($(compgen -f -- "$cur"))`;
    case "context":
      return `COMPREPLY=($(compgen -W "$(${CONTEXTS_COMMAND})" -- "$cur"))`;
    case "namespace":
      return `COMPREPLY=($(compgen -W "$(${NAMESPACES_COMMAND})" -- "$cur"))`;
    default:
      return "COMPREPLY=()";
  }
}

function zshScript(commands: CompletionCommand[]): string {
  const described = commands
    .map((command) => `    ${zshQuote(`${command.name}:${command.description}`)}`)
    .join("\n");
  const cases = commands.map((command) => {
    const specs = command.flags.map((flag) => `        ${zshFlagSpec(flag)}`);
    return `    ${command.name})\n      _arguments -s \\\n${specs.join(" \\\n")} ;;`;
  });
  return `#compdef ${COMPLETED_NAMES.join(" ")}
# zsh completion for trustwatch and kubectl-trustwatch
# Load with: source <(trustwatch completion zsh), or save as _trustwatch in a directory of $fpath
_trustwatch() {
  local -a commands
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'trustwatch command' commands
    return
  fi
  local command=\${words[2]}
  shift words
  (( CURRENT-- ))
  case $command in
${cases.join("\n")}
  esac
}
_trustwatch_contexts() {
  local -a contexts
  contexts=(\${(f)"$(${CONTEXTS_COMMAND})"})
  _describe -t contexts 'kubeconfig context' contexts
}
_trustwatch_namespaces() {
  local -a namespaces
  namespaces=(\${(f)"$(${NAMESPACES_COMMAND})"})
  _describe -t namespaces 'namespace' namespaces
}
if [[ "\${funcstack[1]}" == "_trustwatch" ]]; then
  _trustwatch "$@"
else
  compdef _trustwatch ${COMPLETED_NAMES.join(" ")}
fi
`;
}

function zshFlagSpec(flag: CompletionFlag): string {
  const description = flag.description.replace(/[[\]:\\]/g, "\\$&");
  const action = {
    none: "",
    choices: `:value:(${flag.choices.join(" ")})`,
    file: ":file:_files",
    context: ":context:_trustwatch_contexts",
    namespace: ":namespace:_trustwatch_namespaces",
    free: ":value: ",
  }[flag.value];
  const repeatable = flag.value === "namespace" || flag.names.includes("--resolve") ? "*" : "";
  if (flag.names.length === 1) {
    return zshQuote(`${repeatable}${flag.names[0]}[${description}]${action}`);
  }
  const exclusion = repeatable ? "*" : `(${flag.names.join(" ")})`;
  return `${zshQuote(exclusion)}{${flag.names.join(",")}}${zshQuote(`[${description}]${action}`)}`;
}

function zshQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function fishScript(commands: CompletionCommand[]): string {
  const lines: string[] = [
    "# fish completion for trustwatch and kubectl-trustwatch",
    "# Load with: trustwatch completion fish | source",
    `for command in ${COMPLETED_NAMES.join(" ")}`,
    "    complete -c $command -f",
  ];
  const names = commands.map((command) => command.name).join(" ");
  for (const command of commands) {
    lines.push(
      `    complete -c $command -n "not __fish_seen_subcommand_from ${names}" -a ${command.name} -d ${
        fishQuote(command.description)
      }`,
    );
    for (const flag of command.flags) {
      const spellings = flag.names.map((name) =>
        name.startsWith("--") ? `-l ${name.slice(2)}` : `-s ${name.slice(1)}`
      );
      lines.push(
        `    complete -c $command -n "__fish_seen_subcommand_from ${command.name}" ${
          spellings.join(" ")
        }${fishValue(flag)} -d ${fishQuote(flag.description)}`,
      );
    }
  }
  lines.push("end", "");
  return lines.join("\n");
}

function fishValue(flag: CompletionFlag): string {
  switch (flag.value) {
    case "choices":
      return ` -x -a ${fishQuote(flag.choices.join(" "))}`;
    case "file":
      return " -r -F";
    case "context":
      return ` -x -a ${fishQuote(`(${CONTEXTS_COMMAND})`)}`;
    case "namespace":
      return ` -x -a ${fishQuote(`(${NAMESPACES_COMMAND})`)}`;
    case "free":
      return " -x";
    default:
      return "";
  }
}

function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, "\\$&")}'`;
}

function powershellScript(commands: CompletionCommand[]): string {
  const entries = commands.map((command) => {
    const flags = command.flags.map((flag) => {
      const choices = `@(${flag.choices.map(powershellQuote).join(", ")})`;
      return `      @{ Names = @(${flag.names.map(powershellQuote).join(", ")}); Description = ${
        powershellQuote(flag.description)
      }; Kind = ${powershellQuote(flag.value)}; Choices = ${choices} }`;
    });
    return `  ${powershellQuote(command.name)} = @{\n    Description = ${
      powershellQuote(command.description)
    }\n    Flags = @(\n${flags.join("\n")}\n    )\n  }`;
  });
  return `# PowerShell completion for trustwatch and kubectl-trustwatch
# Load with: trustwatch completion powershell | Out-String | Invoke-Expression
$script:TrustwatchCommands = @{
${entries.join("\n")}
}

Register-ArgumentCompleter -Native -CommandName ${
    COMPLETED_NAMES.map(powershellQuote).join(", ")
  } -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
  if ($wordToComplete -ne '' -and $words.Count -gt 0) { $words = @($words | Select-Object -SkipLast 1) }
  $command = $words | Where-Object { -not $_.StartsWith('-') } | Select-Object -First 1
  if (-not $command -or -not $script:TrustwatchCommands.ContainsKey($command)) {
    foreach ($name in $script:TrustwatchCommands.Keys) {
      if ($name -like "$wordToComplete*") {
        [System.Management.Automation.CompletionResult]::new($name, $name, 'Command', $script:TrustwatchCommands[$name].Description)
      }
    }
    return
  }
  $flags = $script:TrustwatchCommands[$command].Flags
  $previous = if ($words.Count -gt 0) { $words[-1] } else { '' }
  $valueFlag = $flags | Where-Object { $_.Kind -ne 'none' -and $_.Names -contains $previous } | Select-Object -First 1
  if ($valueFlag) {
    if ($valueFlag.Kind -eq 'context') {
      $values = @(kubectl config get-contexts -o name 2>$null)
    } elseif ($valueFlag.Kind -eq 'namespace') {
      $values = @(kubectl get namespaces -o custom-columns=:metadata.name --no-headers 2>$null)
    } else {
      $values = @($valueFlag.Choices)
    }
    foreach ($value in $values) {
      if ($value -and $value -like "$wordToComplete*") {
        [System.Management.Automation.CompletionResult]::new($value, $value, 'ParameterValue', $value)
      }
    }
    return
  }
  foreach ($flag in $flags) {
    foreach ($name in $flag.Names) {
      if ($name -like "$wordToComplete*") {
        [System.Management.Automation.CompletionResult]::new($name, $name, 'ParameterName', $flag.Description)
      }
    }
  }
}
`;
}

function powershellQuote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
