import ArgumentParser

/// `glassbox experiment …`: the papers' experiments, reproduced.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Reproduce a paper's experiment and print its table.",
        discussion: "Example: glassbox experiment convad --images 100",
        subcommands: [ScoresExperimentCommand.self, ConvADExperiment.self, FEIExperimentCommand.self]
    )
}
