"""TFX's config protos are declared once (the build(...) calls in headrace.components.proto): every message
and enum of the built files is bound in the module, listed in __all__, and carries its declared docstring."""

from __future__ import annotations

from google.protobuf import message

from headrace.components import proto


def test_every_top_level_message_and_enum_of_the_files_is_bound_and_exported():
    for built in proto._FILES:
        for name, cls in built.messages.items():
            if "." in name:  # nested: reached through its parent
                parent, _, child = name.rpartition(".")
                assert getattr(eval(f"proto.{parent}"), child) is cls
                continue
            assert getattr(proto, name) is cls and name in proto.__all__
            assert issubclass(cls, message.Message)
            assert cls.__doc__ and "Protocol message" not in cls.__doc__, f"{name} has no declared docstring"
        for name, enum in built.enums.items():
            if "." not in name:
                assert getattr(proto, name) is enum and name in proto.__all__


def test_an_unknown_name_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="NoSuchMessage"):
        proto.NoSuchMessage
