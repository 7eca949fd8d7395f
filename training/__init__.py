"""Training module (torch). May import tcm_desktop.domain/store/inference, never tcm_desktop.ui."""
