"""Hooks that label images where generation pipelines produce them.

:mod:`aimark.integrations.diffusers` labels the images of a Hugging Face diffusers pipeline;
:mod:`aimark.integrations.comfyui` is a ComfyUI output node that saves signed images. Neither
imports diffusers, torch or ComfyUI: they work on what those hand over (PIL images, arrays,
tensors), so ``import aimark`` never needs them.
"""
