/// The version of TextCredits this build is: `textcredits --version` prints it.
public enum TextCreditsVersion {
    public static let current = "1.0.0"
}
