"""Values a parameter spec must reject (shared by the chapter-parameter tests)."""

from pruning_utils.params import Spec


def bad_values(spec: Spec):
    """Values the spec must reject."""
    if spec.kind == "choice":
        return ["no-such-choice", 3]
    if spec.kind == "bool":
        return ["yes", 1]
    if spec.kind == "str":
        return [5]
    out = ["ten", True]
    if spec.kind == "float_list":
        out += [[]] if spec.min_len > 0 else []
        if spec.low is not None:
            out.append([spec.low - 1.0])
        if spec.high is not None:
            out.append([spec.high + 1.0])
        out.append([float("nan")])
        return out
    step = 1 if spec.kind == "int" else 1e-9
    if spec.low is not None:
        out.append(spec.low - step if spec.low_inclusive else spec.low)
    if spec.high is not None:
        out.append(spec.high + step if spec.high_inclusive else spec.high)
    if spec.kind == "int":
        out.append(2.5)
    else:
        out.append(float("nan"))
    return out
