// placeholder until ci/regen-bindings runs
