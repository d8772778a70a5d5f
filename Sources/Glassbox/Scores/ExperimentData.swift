extension ScoresExperiment {
    /// The experiment's data: ``SyntheticClassification`` rows for `setting` (two classes, two
    /// clusters per class, rows and columns shuffled), drawn from `seed`, with each column's role.
    public static func syntheticData(_ setting: Setting, seed: UInt64) throws -> (dataset: Dataset, roles: [FeatureRole]) {
        let parameters = SyntheticClassification.Parameters(
            samples: setting.samples, features: setting.features, informative: setting.informative,
            redundant: setting.redundant, repeated: setting.repeated, flipY: setting.flipY, classSep: setting.classSep)
        let generated = try SyntheticClassification.generate(parameters, seed: seed)
        return (generated.dataset, generated.roles.roles)
    }
}
