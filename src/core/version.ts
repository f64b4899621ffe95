/** The version of Ficus: `ficus --version` and the ficus_build_info metric. A module of its own, so printing it loads nothing else. */
export const VERSION = "0.1.0";
