import ArgumentParser

/// The `textcredits` command: run the server and operate it.
@main
struct TextCredits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "textcredits",
        abstract: "Prepaid messaging-credits server.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, OrgsCommand.self, CreditsCommand.self, PlansCommand.self,
            SimulateCommand.self, LedgerCommand.self, MailCommand.self,
            EstimateCommand.self, BenchCommand.self,
        ]
    )
}
