import pytest
import torch

from neocog.core.backbones import BackboneConfig, backbone_names, build_backbone, output_shapes
from neocog.core.blocks import CausalConv1d, ConvBnAct, CSPBlock, DepthwiseSeparable, ResidualBlock
from neocog.core.errors import NeocogError
from neocog.core.registry import Registry


def test_registry_refuses_duplicates_and_lists_known_names():
    reg = Registry("widget")
    reg.register("a")(lambda: 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a")(lambda: 2)
    with pytest.raises(NeocogError, match="unknown widget 'b'; known: a"):
        reg.create("b")
    assert reg.create("a") == 1


def test_causal_conv_never_sees_the_future():
    conv = CausalConv1d(1, 4, kernel=2, dilation=4)
    x = torch.randn(1, 1, 32)
    y = conv(x)
    assert y.shape == (1, 4, 32)
    x2 = x.clone()
    x2[..., 20:] += 10  # change only the future of t = 19
    assert torch.allclose(conv(x2)[..., :20], y[..., :20])
    assert not torch.allclose(conv(x2)[..., 20:], y[..., 20:])


@pytest.mark.parametrize("block", [
    ConvBnAct(8, 16, 3, (2, 1)), DepthwiseSeparable(8, 16, 3, 2), ResidualBlock(8, 16, 2),
    CSPBlock(8, 16, 2)])
def test_blocks_keep_batch_and_set_channels(block):
    assert block(torch.randn(2, 8, 16, 16)).shape[:2] == (2, 16)


def test_per_axis_stride_pools_frequency_and_keeps_time():
    out = ConvBnAct(1, 4, 3, (2, 1))(torch.randn(1, 1, 64, 100))
    assert out.shape == (1, 4, 32, 100)


@pytest.mark.parametrize("name", backbone_names())
@pytest.mark.parametrize("channels", [1, 3])
def test_feature_info_matches_real_feature_maps(name, channels):
    net = build_backbone(BackboneConfig(name=name, in_channels=channels, width=8))
    h, w = 64, 96
    shapes = output_shapes(net, (channels, h, w))
    assert len(shapes) == len(net.feature_info)
    for shape, info in zip(shapes, net.feature_info, strict=True):
        assert shape[1] == info.channels
        if name not in ("lenet", "cifar"):  # unpadded stems (LeNet 5x5, cifar 2x2) trim pixels
            assert (shape[2], shape[3]) == (-(-h // info.stride[0]), -(-w // info.stride[1]))


def test_spectrogram_strides_keep_time_resolution():
    cfg = BackboneConfig(name="resnet", in_channels=1, width=8, strides=[1, [2, 1], [2, 1], [2, 2]])
    net = build_backbone(cfg)
    assert [i.stride for i in net.feature_info] == [(2, 1), (4, 1), (8, 2)]
    assert output_shapes(net, (1, 64, 100))[-1][2:] == (8, 50)


def test_torchvision_backbone_wraps_resnet_without_weights():
    net = build_backbone(BackboneConfig(name="torchvision:resnet18", in_channels=1, width=0))
    assert [i.channels for i in net.feature_info] == [64, 128, 256, 512]
    assert output_shapes(net, (1, 64, 64))[-1] == (1, 512, 2, 2)


def test_torchvision_pretrained_offline_fails_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no cached weights
    with pytest.raises(NeocogError, match="could not download its ImageNet weights"):
        build_backbone(BackboneConfig(name="torchvision:resnet18", in_channels=3, pretrained=True))


def test_unknown_backbone_lists_the_known_ones():
    with pytest.raises(NeocogError, match="known: cifar, csp, lenet"):
        build_backbone(BackboneConfig(name="vgg"))
