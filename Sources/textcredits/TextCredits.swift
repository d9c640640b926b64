import ArgumentParser
import CreditsServer

/// The `textcredits` command: run the server and operate it.
@main
struct TextCredits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "textcredits",
        abstract: "Prepaid messaging-credits server.",
        version: TextCreditsVersion.current,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, OrgsCommand.self, KeysCommand.self, CreditsCommand.self,
            PlansCommand.self,
            SimulateCommand.self, LedgerCommand.self, BackupCommand.self, RestoreCommand.self, MailCommand.self,
            EstimateCommand.self, BenchCommand.self,
        ]
    )
}
